// The C# mirror of the C API is checked against include/wsmachine.h, so a change in the
// header (a new code, a renumbering, a new export) fails here until the bindings follow.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class HeaderTests
    {
        private static string Header()
        {
            return File.ReadAllText(TestEnv.HeaderPath);
        }

        /// <summary>The members of <c>enum NAME { ... };</c> in the header, as C name to value.</summary>
        private static Dictionary<string, long> CEnum(string header, string name)
        {
            Match m = Regex.Match(header, @"enum\s+" + name + @"\b[^{;]*\{(?<body>[^}]*)\}", RegexOptions.Singleline);
            Assert.IsTrue(m.Success, "enum " + name + " not found in the header");
            string body = Regex.Replace(m.Groups["body"].Value, @"/\*.*?\*/", "", RegexOptions.Singleline);
            body = Regex.Replace(body, @"//[^\n]*", "");
            var result = new Dictionary<string, long>();
            foreach (Match e in Regex.Matches(body, @"(?<n>[A-Z0-9_]+)\s*=\s*(?<v>\d+)\s*,"))
            {
                result.Add(e.Groups["n"].Value, long.Parse(e.Groups["v"].Value));
            }
            Assert.Greater(result.Count, 0, "no members parsed for " + name);
            return result;
        }

        /// <summary>WS_CERT_UNTRUSTED with prefix WS_ becomes CertUntrusted.</summary>
        private static string Pascal(string cName, string prefix)
        {
            Assert.IsTrue(cName.StartsWith(prefix), cName + " lacks the prefix " + prefix);
            var sb = new StringBuilder();
            foreach (string part in cName.Substring(prefix.Length).Split('_'))
            {
                if (part.Length == 0) continue;
                sb.Append(part.Substring(0, 1).ToUpperInvariant()).Append(part.Substring(1).ToLowerInvariant());
            }
            return sb.ToString();
        }

        private static void CheckEnum(string header, string cEnum, string prefix, string csPrefix, Type cs)
        {
            Dictionary<string, long> c = CEnum(header, cEnum);
            var expected = new SortedDictionary<string, long>();
            foreach (var kv in c)
            {
                expected.Add(csPrefix + Pascal(kv.Key, prefix), kv.Value);
            }
            var actual = new SortedDictionary<string, long>();
            foreach (string n in Enum.GetNames(cs))
            {
                actual.Add(n, Convert.ToInt64(Enum.Parse(cs, n)));
            }
            var problems = new List<string>();
            foreach (var kv in expected)
            {
                long v;
                if (!actual.TryGetValue(kv.Key, out v)) problems.Add(cs.Name + "." + kv.Key + " is missing (header: " + kv.Value + ")");
                else if (v != kv.Value) problems.Add(cs.Name + "." + kv.Key + " = " + v + " but the header says " + kv.Value);
            }
            foreach (var kv in actual)
            {
                if (!expected.ContainsKey(kv.Key)) problems.Add(cs.Name + "." + kv.Key + " = " + kv.Value + " is not in the header's " + cEnum);
            }
            Assert.IsEmpty(problems, string.Join("\n", problems.ToArray()));
            Assert.AreEqual(typeof(uint), Enum.GetUnderlyingType(cs), cs.Name + " must be uint like the C enum");
        }

        /// <summary>
        /// Every C enum and its C# mirror: (C name, prefix stripped from members, prefix
        /// the C# member names add back, C# type). WS_TLS_VERSION_1_3 becomes Tls13, since a
        /// C# name cannot start with a digit, and WS_PIN_MODE_ONLY stays PinOnly.
        /// </summary>
        private static readonly object[][] Mirrors =
        {
            new object[] { "ws_result", "WS_", "", typeof(WsResult) },
            new object[] { "ws_message_kind", "WS_MESSAGE_", "", typeof(WsMessageKind) },
            new object[] { "ws_state", "WS_STATE_", "", typeof(WsState) },
            new object[] { "ws_tls_version", "WS_TLS_VERSION_", "Tls", typeof(WsTlsVersion) },
            new object[] { "ws_pin_mode", "WS_PIN_MODE_", "Pin", typeof(WsPinMode) },
            new object[] { "ws_external_verify", "WS_EXTERNAL_VERIFY_", "", typeof(WsExternalVerification) },
        };

        [Test]
        public void EnumsMatchHeader()
        {
            string h = Header();
            foreach (object[] m in Mirrors)
            {
                CheckEnum(h, (string)m[0], (string)m[1], (string)m[2], (Type)m[3]);
            }
        }

        [Test]
        public void EveryHeaderEnumHasAMirror()
        {
            var names = Regex.Matches(Header(), @"^enum\s+(ws_[a-z_0-9]+)", RegexOptions.Multiline)
                .Cast<Match>().Select(x => x.Groups[1].Value).ToList();
            CollectionAssert.IsSubsetOf(new[] { "ws_result", "ws_message_kind", "ws_state", "ws_tls_version" }, names);
            var mirrored = Mirrors.Select(m => (string)m[0]).ToList();
            var missing = names.Where(n => !mirrored.Contains(n)).ToArray();
            Assert.IsEmpty(missing, "C enums without a C# mirror: " + string.Join(", ", missing));
        }

        [Test]
        public void EnumParserSeesEveryCode()
        {
            // Guards the parser itself: a few codes picked by hand must be found.
            Dictionary<string, long> r = CEnum(Header(), "ws_result");
            Assert.AreEqual(0, r["WS_OK"]);
            Assert.AreEqual(201, r["WS_CERT_UNTRUSTED"]);
            Assert.AreEqual(900, r["WS_PANIC"]);
        }

        /// <summary>The C# type a C parameter or return type must have in NativeMethods.</summary>
        private static string Blittable(string c)
        {
            c = Regex.Replace(c.Replace("const ", "").Replace("struct ", ""), @"\s+", " ").Trim();
                        string core = c.TrimEnd('*', ' ');
            string stars = c.Substring(core.Length).Replace(" ", "");
            string t;
            switch (core)
            {
                case "uint64_t": case "ws_config": case "ws_client": case "ws_tls": t = "UInt64"; break;
                // The enum typedefs are uint32_t in C; NativeMethods keeps them as uint.
                case "uint32_t": case "ws_result": case "ws_state": case "ws_message_kind":
                case "ws_tls_version": case "ws_pin_mode": case "ws_external_verify": t = "UInt32"; break;
                case "uint16_t": t = "UInt16"; break;
                case "size_t": t = "UIntPtr"; break;
                case "uint8_t": case "char": t = "Byte"; break;
                case "ws_message": t = "WsNativeMessage"; break;
                case "ws_deflate_info": t = "WsNativeDeflateInfo"; break;
                case "void": t = "Void"; break;
                default: t = "?" + core; break;
            }
                        return t + stars;
        }

        [Test]
        public void NativeMethodsDeclareEveryExport()
        {
            string h = Header();
            string body = Regex.Replace(h, @"/\*.*?\*/", "", RegexOptions.Singleline);
            var protos = Regex.Matches(body, @"^(?<ret>[a-z_0-9 ]+?\*?)\s*(?<name>ws_[a-z_0-9]+)\((?<args>[^)]*)\);", RegexOptions.Multiline);
            Assert.Greater(protos.Count, 30, "header parse found too few functions");

            Type nm = typeof(WsClient).Assembly.GetType("WsMachine.NativeMethods", true);
            var methods = nm.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
                .Where(m => m.GetCustomAttributes(typeof(DllImportAttribute), false).Length > 0)
                .ToDictionary(m => m.Name);

            var problems = new List<string>();
            var seen = new HashSet<string>();
            foreach (Match p in protos)
            {
                string name = p.Groups["name"].Value;
                seen.Add(name);
                MethodInfo mi;
                if (!methods.TryGetValue(name, out mi))
                {
                    problems.Add(name + " is not declared");
                    continue;
                }
                var dll = (DllImportAttribute)mi.GetCustomAttributes(typeof(DllImportAttribute), false)[0];
                if (dll.CallingConvention != CallingConvention.Cdecl) problems.Add(name + " is not Cdecl");
                string ret = Blittable(p.Groups["ret"].Value);
                if (mi.ReturnType.Name != ret) problems.Add(name + " returns " + mi.ReturnType.Name + ", header: " + ret);
                string args = p.Groups["args"].Value.Trim();
                var cParams = args == "void" || args == "" ? new string[0] : args.Split(',');
                ParameterInfo[] ps = mi.GetParameters();
                if (ps.Length != cParams.Length)
                {
                    problems.Add(name + " has " + ps.Length + " parameters, header: " + cParams.Length);
                    continue;
                }
                for (int i = 0; i < ps.Length; i++)
                {
                    // "const uint8_t *data" -> type "const uint8_t *"
                    string cp = Regex.Replace(cParams[i].Trim(), @"[A-Za-z_0-9]+$", "");
                    string want = Blittable(cp);
                    if (ps[i].ParameterType.Name != want)
                        problems.Add(name + " parameter " + i + " is " + ps[i].ParameterType.Name + ", header: " + want);
                }
            }
            foreach (string declared in methods.Keys)
            {
                if (!seen.Contains(declared)) problems.Add(declared + " is declared but not in the header");
            }
            Assert.IsEmpty(problems, string.Join("\n", problems.ToArray()));
        }

        [Test]
        public void NativeStructsMatchHeader()
        {
            string h = Regex.Replace(Header(), @"/\*.*?\*/", "", RegexOptions.Singleline);
            var structs = Regex.Matches(h, @"typedef struct (?<name>ws_[a-z_0-9]+) \{(?<body>[^}]*)\}", RegexOptions.Singleline);
            Assert.GreaterOrEqual(structs.Count, 1);
            var problems = new List<string>();
            foreach (Match st in structs)
            {
                string cName = st.Groups["name"].Value;
                string csName = Blittable(cName);
                Type t = typeof(WsClient).Assembly.GetType("WsMachine." + csName);
                if (t == null)
                {
                    problems.Add("no C# struct for " + cName);
                    continue;
                }
                var cFields = Regex.Matches(st.Groups["body"].Value, @"(?<type>[a-z_0-9 ]+?\*?)\s*(?<name>[a-z_0-9]+);")
                    .Cast<Match>().ToList();
                FieldInfo[] fields = t.GetFields(BindingFlags.Instance | BindingFlags.Public);
                if (fields.Length != cFields.Count)
                {
                    problems.Add(csName + " has " + fields.Length + " fields, header: " + cFields.Count);
                    continue;
                }
                for (int i = 0; i < fields.Length; i++)
                {
                    string want = Blittable(cFields[i].Groups["type"].Value);
                    if (fields[i].Name != cFields[i].Groups["name"].Value || fields[i].FieldType.Name != want)
                        problems.Add(csName + " field " + i + " is " + fields[i].FieldType.Name + " " + fields[i].Name +
                                     ", header: " + want + " " + cFields[i].Groups["name"].Value);
                }
            }
            Assert.IsEmpty(problems, string.Join("\n", problems.ToArray()));
            // ws_message on this platform: u32, pointer, size_t, u16, padded to pointer size.
            Assert.AreEqual(IntPtr.Size == 8 ? 32 : 16, Marshal.SizeOf(typeof(WsClient).Assembly.GetType("WsMachine.WsNativeMessage")));
        }

        [Test]
        public void VersionMatchesHeaderMacros()
        {
            string h = Header();
            Func<string, string> macro = n => Regex.Match(h, @"#define\s+" + n + @"\s+(\d+)").Groups[1].Value;
            string expected = macro("WSMACHINE_VERSION_MAJOR") + "." + macro("WSMACHINE_VERSION_MINOR") + "." + macro("WSMACHINE_VERSION_PATCH");
            Assert.AreEqual(expected, WsLibrary.Version);
        }

        [Test]
        public void EveryResultHasADescription()
        {
            string unknown = WsLibrary.Describe((WsResult)12345);
            StringAssert.Contains("unknown", unknown);
            foreach (WsResult r in Enum.GetValues(typeof(WsResult)))
            {
                string d = WsLibrary.Describe(r);
                Assert.IsFalse(string.IsNullOrEmpty(d), r.ToString());
                Assert.AreNotEqual(unknown, d, r + " has no description of its own");
            }
        }
    }
}
