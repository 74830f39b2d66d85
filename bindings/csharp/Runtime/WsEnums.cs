// Mirrors of the C enums in include/wsmachine.h. The numbers are the C numbers, which are
// never renumbered; the test HeaderEnumsMatch parses the header and fails on any
// difference in a name or a number. Names are the C names without the prefix
// (WS_, WS_MESSAGE_, WS_STATE_), in PascalCase: WS_CERT_UNTRUSTED -> CertUntrusted; the TLS
// versions and pin modes keep a word of their prefix (WS_TLS_VERSION_1_3 -> Tls13,
// WS_PIN_MODE_ONLY -> PinOnly).

namespace WsMachine
{
    /// <summary>
    /// Result codes of the C API (<c>ws_result</c>). Blocks: 0-99 statuses that are not
    /// errors, 100-199 caller errors, 200-299 TLS, 300-399 opening handshake, 400-499
    /// WebSocket protocol and capacity, 500-599 connection ended, 900 internal error.
    /// </summary>
    public enum WsResult : uint
    {
        /// <summary>Success.</summary>
        Ok = 0,
        /// <summary>Not an error: no message is ready; offer more input.</summary>
        NeedInput = 1,
        /// <summary>Not an error: the connection ended and every message has been polled (the last was a CLOSE message; code 1006 when it ended without a close handshake).</summary>
        Closed = 2,
        /// <summary>A required pointer argument was NULL.</summary>
        NullPointer = 100,
        /// <summary>The handle is 0, stale (already freed), of the wrong type, or garbage.</summary>
        InvalidHandle = 101,
        /// <summary>The call is not allowed in the current state (for example a send before the handshake completed).</summary>
        InvalidState = 102,
        /// <summary>The caller's buffer is too small.</summary>
        BufferTooSmall = 103,
        /// <summary>An argument is out of range or malformed (close code, invalid UTF-8 text, ...).</summary>
        InvalidArgument = 104,
        /// <summary>The URL is malformed or not <c>ws://</c>/<c>wss://</c>.</summary>
        InvalidUrl = 105,
        /// <summary>A configuration value was rejected (bad PEM, header, limit).</summary>
        InvalidConfig = 106,
        /// <summary>Queueing this send would exceed the pending-output limit; drain the output and retry.</summary>
        OutputFull = 107,
        /// <summary>A TLS error without a more specific code.</summary>
        TlsError = 200,
        /// <summary>The server certificate does not chain to a trusted root.</summary>
        CertUntrusted = 201,
        /// <summary>The server certificate has expired.</summary>
        CertExpired = 202,
        /// <summary>The server certificate is not valid yet (check the device clock).</summary>
        CertNotYetValid = 203,
        /// <summary>The server certificate is not valid for the host name or IP in the URL.</summary>
        CertWrongHost = 204,
        /// <summary>The server's public key matches none of the configured pins.</summary>
        CertPinMismatch = 205,
        /// <summary>The certificate is malformed, badly signed, revoked or unsupported.</summary>
        CertInvalid = 206,
        /// <summary>The server sent a fatal TLS alert.</summary>
        TlsAlert = 207,
        /// <summary>No TLS version or cipher suite in common with the server.</summary>
        TlsVersion = 208,
        /// <summary>The server sent bytes that are not valid TLS.</summary>
        TlsCorrupt = 209,
        /// <summary>The peer's stream ended without close_notify (<see cref="WsTls.Read(byte[], int, int, out int)"/>): what arrived may be cut short.</summary>
        TlsTruncated = 210,
        /// <summary>The opening handshake failed without a more specific code.</summary>
        HandshakeError = 300,
        /// <summary>The server answered the upgrade with an HTTP status other than 101.</summary>
        HttpStatus = 301,
        /// <summary><c>Sec-WebSocket-Accept</c> did not match.</summary>
        BadAccept = 302,
        /// <summary>The upgrade response is not valid HTTP or lacks required headers.</summary>
        BadResponse = 303,
        /// <summary>The server selected a subprotocol that was not offered.</summary>
        Subprotocol = 304,
        /// <summary>The server selected an extension that was not offered.</summary>
        Extension = 305,
        /// <summary>The upgrade response head exceeds the configured limit.</summary>
        HeaderTooLarge = 306,
        /// <summary>The server violated the WebSocket protocol (close code 1002 was sent).</summary>
        ProtocolError = 400,
        /// <summary>A text message or close reason was not valid UTF-8 (close code 1007 was sent).</summary>
        InvalidUtf8 = 401,
        /// <summary>A message exceeds the maximum message size (close code 1009 was sent).</summary>
        MessageTooBig = 402,
        /// <summary>A frame exceeds the maximum frame size (close code 1009 was sent).</summary>
        FrameTooBig = 403,
        /// <summary>The connection is closing or closed; nothing more can be sent.</summary>
        AlreadyClosed = 500,
        /// <summary>The server closed the connection during the handshake.</summary>
        ConnectionLost = 501,
        /// <summary>A handshake or idle (dead-peer) timeout expired.</summary>
        Timeout = 502,
        /// <summary>The proxy wants credentials (HTTP 407, with challenges), or a SOCKS5 proxy rejected the user name and password.</summary>
        ProxyAuthRequired = 600,
        /// <summary>The proxy refused the tunnel: an HTTP status other than 2xx and 407, or a SOCKS5 reply code.</summary>
        ProxyRefused = 601,
        /// <summary>The proxy's answer is not valid HTTP or SOCKS5, or exceeds the header size limit.</summary>
        ProxyBadResponse = 602,
        /// <summary>The proxy closed the connection before the tunnel to the server was open.</summary>
        ProxyClosed = 603,
        /// <summary>An internal error (a caught panic). The handle is poisoned; others still work.</summary>
        Panic = 900,
    }

    /// <summary>Kinds of received messages (<c>ws_message_kind</c>).</summary>
    public enum WsMessageKind : uint
    {
        /// <summary>A UTF-8 text message.</summary>
        Text = 1,
        /// <summary>A binary message.</summary>
        Binary = 2,
        /// <summary>A ping from the server (already answered with a pong).</summary>
        Ping = 3,
        /// <summary>A pong from the server.</summary>
        Pong = 4,
        /// <summary>The server's close frame (close code, payload = reason), or 1006 when the connection dropped without one.</summary>
        Close = 5,
    }

    /// <summary>States of one sans-IO client (<c>ws_state</c>).</summary>
    public enum WsState : uint
    {
        /// <summary>TLS handshake in progress (<c>wss://</c> only).</summary>
        TlsHandshaking = 1,
        /// <summary>HTTP upgrade in progress.</summary>
        WsHandshaking = 2,
        /// <summary>Messages flow both ways.</summary>
        Open = 3,
        /// <summary>A close frame was sent or received, or final bytes still wait in the output.</summary>
        Closing = 4,
        /// <summary>Ended (after a close handshake, or with a 1006 CLOSE message when it ended without one), and everything to send has been read out.</summary>
        Closed = 5,
        /// <summary>Failed; every call raises the failure (see <see cref="WsClient.LastError"/>).</summary>
        Failed = 6,
        /// <summary>The TLS handshake is done and the server's chain waits for <see cref="WsClient.SetVerdict"/> (external verification only); nothing of the application has been sent.</summary>
        Verifying = 7,
    }

    /// <summary>Which certificate chains wait for the application's verdict (<c>ws_external_verify</c>); see <see cref="WsConfig.ExternalVerification"/>.</summary>
    public enum WsExternalVerification : uint
    {
        /// <summary>The built-in checks decide alone (the default).</summary>
        Off = 0,
        /// <summary>Only a chain the trusted roots cannot anchor waits; a wrong host name, an expired certificate or a pin mismatch still fail at once.</summary>
        UnknownIssuer = 1,
        /// <summary>Every chain waits, once the built-in checks passed or failed only on the issuer (a resumed session too).</summary>
        Always = 2,
    }

    /// <summary>TLS versions (<c>ws_tls_version</c>).</summary>
    public enum WsTlsVersion : uint
    {
        /// <summary>TLS 1.2 (as a minimum: 1.2 and 1.3, the default).</summary>
        Tls12 = 12,
        /// <summary>TLS 1.3 (as a minimum: 1.3 only).</summary>
        Tls13 = 13,
    }

    /// <summary>How public-key pins combine with CA verification (<c>ws_pin_mode</c>).</summary>
    public enum WsPinMode : uint
    {
        /// <summary>The chain must verify against the trusted roots and the key must match a pin (the default).</summary>
        PinAndCa = 1,
        /// <summary>Only the pin is checked (no CA, no host name): a self-signed server works.</summary>
        PinOnly = 2,
    }

    /// <summary>The outcome of <see cref="WsClient.PollMessage(out WsMessage)"/> and its copying overload.</summary>
    public enum WsPollStatus
    {
        /// <summary>A message was taken.</summary>
        Message = 0,
        /// <summary>No message is ready: offer more input (<c>WS_NEED_INPUT</c>).</summary>
        NeedInput = 1,
        /// <summary>The connection ended and every message has been taken (<c>WS_CLOSED</c>; the last was a CLOSE message, code 1006 when it ended without a close handshake).</summary>
        Closed = 2,
        /// <summary>
        /// The caller's buffer is too small for the next message, which stays queued;
        /// <see cref="WsMessage.Length"/> holds the size needed.
        /// </summary>
        BufferTooSmall = 3,
    }

    /// <summary>Which certificate problem a <see cref="WsTlsException"/> reports.</summary>
    public enum WsCertificateError
    {
        /// <summary>Not a certificate problem (another TLS error).</summary>
        None = 0,
        /// <summary>The certificate does not chain to a trusted root (add the CA with <see cref="WsConfig.AddRootPem(string)"/>).</summary>
        Untrusted,
        /// <summary>The certificate has expired.</summary>
        Expired,
        /// <summary>The certificate is not valid yet (check the device clock).</summary>
        NotYetValid,
        /// <summary>The certificate is not valid for the host name or IP in the URL.</summary>
        WrongHost,
        /// <summary>The server's public key matches none of the configured pins.</summary>
        PinMismatch,
        /// <summary>The certificate is malformed, badly signed, revoked or unsupported.</summary>
        Invalid,
    }

    /// <summary>
    /// States of a <see cref="WsSocketConnection"/>. The last four are terminal, and
    /// each tells a different ending apart.
    /// </summary>
    public enum WsConnectionState
    {
        /// <summary>Not connected yet: call <see cref="WsSocketConnection.Connect"/>.</summary>
        None = 0,
        /// <summary>Resolving the host name.</summary>
        Resolving,
        /// <summary>The TCP connection is being established.</summary>
        Connecting,
        /// <summary>TLS and the HTTP upgrade are in progress.</summary>
        Handshaking,
        /// <summary>Messages flow both ways.</summary>
        Open,
        /// <summary>A close frame was sent or received; the close handshake is finishing.</summary>
        Closing,
        /// <summary>Terminal: the close handshake completed (see <see cref="WsSocketConnection.CloseCode"/>).</summary>
        Closed,
        /// <summary>Terminal: the peer reset or closed the TCP stream without a close frame (close code 1006).</summary>
        Lost,
        /// <summary>Terminal: the handshake or idle (dead-peer) timeout expired (close code 1006).</summary>
        TimedOut,
        /// <summary>Terminal: connecting, TLS, the handshake or the protocol failed (see <see cref="WsSocketConnection.Error"/>).</summary>
        Failed,
    }
}
