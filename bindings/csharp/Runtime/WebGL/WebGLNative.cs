// wsmachine C# bindings for the Unity WebGL player, layer 1: the jslib's functions.
//
// Plugins/WebGL/wsmachine.jslib implements these over the browser's WebSocket; Unity links
// them into the page through "__Internal". Blittable types only (int, byte*, int*), no
// strings marshalled, no delegates: the jslib never calls back into C#, the game polls.
// Every function returns a ws_result code (the numbers of WsResult). tests/webgl/
// check_signatures.py compares this list with the jslib and with the C test program that
// runs the jslib in Chromium.

#if UNITY_WEBGL && !UNITY_EDITOR
using System.Runtime.InteropServices;

namespace WsMachine
{
    /// <summary>The jslib's functions (see the comments in wsmachine.jslib for each contract).</summary>
    internal static unsafe class WebGLNative
    {
        private const string Lib = "__Internal";

        /// <summary>Event kinds of <see cref="ws_js_poll_event"/> besides text (1), binary (2) and close (5).</summary>
        internal const int EventOpen = 16;

        /// <summary>The browser's error event (no detail).</summary>
        internal const int EventError = 17;

        /// <summary>A limit was exceeded (code: a ws_result, payload: a message); a close follows.</summary>
        internal const int EventFailure = 18;

        [DllImport(Lib)]
        internal static extern int ws_js_open(byte* url, byte* protocols, int maxMessageBytes, int maxQueuedMessages,
            int maxQueuedBytes, int* outId, byte* err, int errCap);

        [DllImport(Lib)]
        internal static extern int ws_js_send_text(int id, byte* utf8, int len, int maxPending);

        [DllImport(Lib)]
        internal static extern int ws_js_send_binary(int id, byte* data, int len, int maxPending);

        [DllImport(Lib)]
        internal static extern int ws_js_close(int id, int code, byte* reason, int len);

        [DllImport(Lib)]
        internal static extern int ws_js_poll_event(int id, byte* buf, int cap, int* outKind, int* outLen, int* outCode);

        [DllImport(Lib)]
        internal static extern int ws_js_state(int id, int* outState);

        [DllImport(Lib)]
        internal static extern int ws_js_buffered_amount(int id, int* outBytes, int* outQueued);

        [DllImport(Lib)]
        internal static extern int ws_js_subprotocol(int id, byte* buf, int cap, int* outLen);

        [DllImport(Lib)]
        internal static extern int ws_js_extensions(int id, byte* buf, int cap, int* outLen);

        [DllImport(Lib)]
        internal static extern int ws_js_free(int id);
    }
}
#endif
