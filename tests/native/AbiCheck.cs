// AbiCheck.exe EXPECTED_PLUGIN_ABI: run by scripts/test-native.sh on Mono, compiled
// together with bindings/csharp/src. The first use of the bindings (new WsConfig())
// must succeed when the loaded libwsmachine has the bindings' ABI (argument 1), and
// throw WsAbiMismatchException "plugin is N, bindings expect 1" otherwise; so must the
// next use (nothing is cached after a failure). Prints "ok - " / "not ok - " lines.
using System;
using WsMachine;

internal static class AbiCheckProgram
{
    private static int _failed;

    private static void Check(bool cond, string what)
    {
        Console.WriteLine((cond ? "ok - " : "not ok - ") + what);
        if (!cond) _failed++;
    }

    private static int Main(string[] args)
    {
        uint plugin = uint.Parse(args[0]);
        for (int attempt = 1; attempt <= 2; attempt++)
        {
            try
            {
                using (var cfg = new WsConfig())
                {
                    Check(plugin == 1, "attempt " + attempt + ": new WsConfig() works with a plugin of ABI " + plugin);
                }
                Check(WsLibrary.Version.Length > 0, "WsLibrary.Version after the check");
            }
            catch (WsAbiMismatchException e)
            {
                string want = "plugin is " + plugin + ", bindings expect 1";
                Check(plugin != 1 && e.Message.Contains(want) && e.PluginVersion == plugin && e.ExpectedVersion == 1,
                      "attempt " + attempt + ": WsAbiMismatchException: " + e.Message);
            }
        }
        return _failed == 0 ? 0 : 1;
    }
}
