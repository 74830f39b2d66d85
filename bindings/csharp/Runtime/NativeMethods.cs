// wsmachine C# bindings, layer 1 of 4: the raw C ABI.
//
// Every export of include/wsmachine.h is declared here, once, with blittable types only:
// uint64_t handles are ulong, uint32_t codes are uint, size_t is UIntPtr, and every
// pointer is a real pointer (byte*, ulong*, ...). Nothing is marshalled, so IL2CPP and
// Mono generate a direct call, and no function pointer ever crosses the boundary.
// The test NativeMethodsMatchHeader checks this file against the header.
//
// Layer 2 (Ensure) turns result codes into exceptions, layer 3 (WsConfig, WsClient)
// owns handles, layer 4 (WsSocketConnection) drives a socket. The TLS object follows
// the same layers: WsTls (layer 3) and WsTlsStream (layer 4, a blocking Stream).

using System;
using System.Runtime.InteropServices;

#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no sockets and no native library: see WebGL/WebGLNative.cs
namespace WsMachine
{
    /// <summary>The <c>ws_message</c> struct of the C API (a borrowed view).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct WsNativeMessage
    {
        /// <summary>One of the <c>WS_MESSAGE_*</c> kinds.</summary>
        public uint kind;
        /// <summary>The payload, valid until the next poll or free on the same handle.</summary>
        public byte* data;
        /// <summary>Payload length in bytes.</summary>
        public UIntPtr len;
        /// <summary>For a close: the close code; 0 otherwise.</summary>
        public ushort close_code;
    }

    /// <summary>The <c>ws_deflate_info</c> struct of the C API.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct WsNativeDeflateInfo
    {
        /// <summary>1 when compression was negotiated.</summary>
        public uint enabled;
        /// <summary>Our compressor's window (8-15).</summary>
        public uint client_max_window_bits;
        /// <summary>The server's compressor's window (8-15).</summary>
        public uint server_max_window_bits;
        /// <summary>1 when we reset our compressor after every message.</summary>
        public uint client_no_context_takeover;
        /// <summary>1 when the server resets its compressor after every message.</summary>
        public uint server_no_context_takeover;
    }

    /// <summary>P/Invoke declarations for every function in <c>wsmachine.h</c>.</summary>
    internal static unsafe class NativeMethods
    {
#if (UNITY_IOS || UNITY_TVOS || UNITY_VISIONOS) && !UNITY_EDITOR
        // iOS, tvOS and visionOS link native code statically into the player binary.
        internal const string Library = "__Internal";
#else
        // wsmachine.dll on Windows, libwsmachine.so on Linux/Android, libwsmachine.dylib on macOS.
        internal const string Library = "wsmachine";
#endif

        /// <summary><c>WS_NO_DEADLINE</c>: written by ws_client_next_deadline when no timer runs.</summary>
        internal const ulong WS_NO_DEADLINE = ulong.MaxValue;

        // ----- ws_client -------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_new(ulong cfg, byte* url, ulong* out_client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_free(ulong c);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_offer_input(ulong c, byte* data, UIntPtr len, UIntPtr* out_consumed);

        // The input window suits native sockets that receive into a pointer; managed
        // sockets receive into arrays, so WsSocketConnection uses ws_offer_input. The
        // only managed way into the window, Socket.Receive(Span<byte>, ...), is no way
        // round the copy: Mono 6.8's allocates a byte[] of the span's length per call,
        // receives into it and copies all of it into the span (docs/BENCH-MONO.md,
        // "The input window from C#", benches/mono/ReceiveSpan.cs). The library itself
        // costs the same per read either way (ws_offer_input and ws_commit_prepare_input,
        // BENCHMARKS.md, issue 18), so the array and ws_offer_input stay.
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_prepare_input(ulong c, byte** out_buf, UIntPtr* out_cap);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_commit_input(ulong c, UIntPtr n);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_commit_prepare_input(ulong c, UIntPtr n, byte** out_buf, UIntPtr* out_cap);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_read_output(ulong c, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_trim(ulong c);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_peek_output(ulong c, byte** out_data, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_consume_output(ulong c, UIntPtr n);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_pending_output(ulong c, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_poll_message(ulong c, WsNativeMessage* out_msg);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_poll_message_copy(ulong c, byte* buf, UIntPtr cap, uint* out_kind,
            UIntPtr* out_len, ushort* out_close_code);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_send_text(ulong c, byte* utf8, UIntPtr len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_send_binary(ulong c, byte* data, UIntPtr len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_send_ping(ulong c, byte* data, UIntPtr len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_close(ulong c, ushort code, byte* reason, UIntPtr len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_tick(ulong c, ulong now_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_next_deadline(ulong c, ulong* out_deadline_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_probe(ulong c, ulong now_ms, ulong deadline_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_state(ulong c, uint* out_state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_last_error(ulong c, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_http_status(ulong c, ushort* out_status);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_connect_address(ulong c, byte* buf, UIntPtr cap, UIntPtr* out_len, ushort* out_port);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_proxy_challenges(ulong c, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_is_resumed(ulong c, uint* out_resumed);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_is_insecure(ulong c, uint* out_insecure);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_deflate(ulong c, WsNativeDeflateInfo* out_info);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_tls_version(ulong c, uint* out_version);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_subprotocol(ulong c, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_peer_certificate(ulong c, UIntPtr index, byte** out_der, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_set_verdict(ulong c, uint accept, byte* reason);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_client_verify_with_platform(ulong c, uint* out_trusted, byte* reason, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_handle_count(UIntPtr* out_count);

        // ----- ws_tls ----------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_new(ulong cfg, byte* server_name, ulong* out_tls);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_free(ulong t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_offer_input(ulong t, byte* data, UIntPtr len, UIntPtr* out_consumed);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_read_output(ulong t, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_write(ulong t, byte* data, UIntPtr len, UIntPtr* out_consumed);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_read(ulong t, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_close(ulong t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_tick(ulong t, ulong now_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_next_deadline(ulong t, ulong* out_deadline_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_wants_write(ulong t, uint* out_wants);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_state(ulong t, uint* out_state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_last_error(ulong t, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_protocol_version(ulong t, uint* out_version);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_cipher_suite(ulong t, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_is_resumed(ulong t, uint* out_resumed);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_tls_is_insecure(ulong t, uint* out_insecure);

        // ----- ws_config -------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_new(ulong* out_config);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_free(ulong cfg);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_add_root_pem(ulong cfg, byte* pem, UIntPtr len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_add_pin_sha256(ulong cfg, byte* sha256, UIntPtr len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_pin_mode(ulong cfg, uint mode);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_client_cert_pem(ulong cfg, byte* chain_pem, UIntPtr chain_len,
            byte* key_pem, UIntPtr key_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_dangerous_disable_certificate_verification(ulong cfg);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_deflate(ulong cfg, uint enabled);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_deflate_window_bits(ulong cfg, uint client_max_window_bits,
            uint server_max_window_bits);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_deflate_no_context_takeover(ulong cfg, uint client, uint server);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_deflate_threshold(ulong cfg, UIntPtr bytes);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_deflate_level(ulong cfg, uint level);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_builtin_roots(ulong cfg, uint enabled);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_system_roots(ulong cfg, uint on);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_system_roots_count(ulong cfg, UIntPtr* out_loaded, UIntPtr* out_skipped);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_external_verification(ulong cfg, uint mode);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_subprotocols(ulong cfg, byte* protocols);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_add_header(ulong cfg, byte* name, byte* value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_server_name(ulong cfg, byte* name);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_proxy(ulong cfg, byte* url);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_proxy_authorization(ulong cfg, byte* value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_min_tls_version(ulong cfg, uint version);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_max_message_size(ulong cfg, UIntPtr bytes);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_max_frame_size(ulong cfg, UIntPtr bytes);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_max_header_size(ulong cfg, UIntPtr bytes);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_max_queued_messages(ulong cfg, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_max_queued_bytes(ulong cfg, UIntPtr bytes);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_max_pending_output(ulong cfg, UIntPtr bytes);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_handshake_timeout(ulong cfg, ulong ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_close_timeout(ulong cfg, ulong ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_keepalive_interval(ulong cfg, ulong ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_config_set_idle_timeout(ulong cfg, ulong ms);

        // ----- library-wide ----------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern byte* ws_result_str(uint code);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern byte* ws_version();

        /// <summary><c>WS_ABI_VERSION</c> of the header these declarations follow; see <see cref="AbiCheck"/>.</summary>
        internal const uint WS_ABI_VERSION = 1;

        // Returns the value itself (not a result code); called once, by AbiCheck.
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_abi_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint ws_last_error(byte* buf, UIntPtr cap, UIntPtr* out_len);
    }
}
#endif
