// TEST STUB -- NOT UNITY. A minimal stand-in for the few UnityEngine types that
// unity-sample/Samples~/EchoSample/EchoSample.cs uses, so that scripts/test-csharp.sh can
// compile the sample with mcs and keep it from rotting. Nothing here behaves like Unity;
// only the signatures matter. Add a member here when the sample starts using it.

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
        public byte[] bytes
        {
            get { return new byte[0]; }
        }

        public string text
        {
            get { return string.Empty; }
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
