// TEST STUB -- NOT UNITY. A minimal stand-in for the few UnityEngine types that
// unity-sample/Assets/EchoSample.cs uses, so that scripts/test-csharp.sh can compile the
// sample with mcs and drive it (EchoSampleTests.cs). Nothing here behaves like Unity beyond
// holding values; only the signatures matter. Add a member here when the sample uses it.

using System;

namespace UnityEngine
{
    public class Object
    {
    }

    public class Component : Object
    {
    }

    public class Behaviour : Component
    {
    }

    public class MonoBehaviour : Behaviour
    {
    }

    public class TextAsset : Object
    {
        private readonly string _text;

        public TextAsset() : this(string.Empty)
        {
        }

        public TextAsset(string text)
        {
            _text = text;
        }

        public byte[] bytes
        {
            get { return System.Text.Encoding.UTF8.GetBytes(_text); }
        }

        public string text
        {
            get { return _text; }
        }
    }

    public static class Debug
    {
        public static void Log(object message)
        {
        }
    }

    public static class Time
    {
        public static double realtimeSinceStartupAsDouble
        {
            get { return 0; }
        }
    }

    public sealed class GUILayoutOption
    {
    }

    public static class GUILayout
    {
        public static void Label(string text, params GUILayoutOption[] options)
        {
        }

        public static string TextField(string text, params GUILayoutOption[] options)
        {
            return text;
        }

        public static bool Button(string text, params GUILayoutOption[] options)
        {
            return false;
        }

        public static void BeginHorizontal(params GUILayoutOption[] options)
        {
        }

        public static void EndHorizontal()
        {
        }

        public static GUILayoutOption Width(float width)
        {
            return new GUILayoutOption();
        }
    }

    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip)
        {
        }
    }
}
