// A received message: either a copy in a caller-owned (pooled) array, or a borrowed view
// of the library's memory that stays valid until the next poll on the same client.

using System;
using System.Text;

namespace WsMachine
{
    /// <summary>Tracks which borrowed views are still valid: bumped by every poll and by Dispose.</summary>
    internal sealed class ViewGuard
    {
        internal int Version;
    }

    /// <summary>
    /// A received message. It does not own its payload: the payload is either in a
    /// caller-owned array (<see cref="Array"/>, from a copying poll or from
    /// <see cref="WsSocketConnection.TryReceive"/>'s pooled buffers) or borrowed from the
    /// library (<see cref="IsBorrowed"/>). A borrowed payload, and a connection's pooled
    /// payload, stay valid until the next poll on the same client (the next
    /// <see cref="WsSocketConnection.TryReceive"/> or <see cref="WsSocketConnection.Pump(long)"/>);
    /// reading them later throws <see cref="InvalidOperationException"/>. Copy what you keep.
    /// </summary>
    public unsafe struct WsMessage
    {
        private readonly WsMessageKind _kind;
        private readonly ushort _closeCode;
        private readonly byte[] _array;
        private readonly int _offset;
        private readonly int _length;
        private readonly byte* _pointer;
        private readonly ViewGuard _guard;
        private readonly int _version;

        internal WsMessage(WsMessageKind kind, ushort closeCode, byte[] array, int offset, int length,
            byte* pointer, ViewGuard guard, int version)
        {
            _kind = kind;
            _closeCode = closeCode;
            _array = array;
            _offset = offset;
            _length = length;
            _pointer = pointer;
            _guard = guard;
            _version = version;
        }

        /// <summary>What the message is (0 when no message was taken).</summary>
        public WsMessageKind Kind
        {
            get { return _kind; }
        }

        /// <summary>For a close: the close code (1005 = the frame had none, 1006 = the connection dropped without one); 0 otherwise.</summary>
        public ushort CloseCode
        {
            get { return _closeCode; }
        }

        /// <summary>Payload length in bytes (after <see cref="WsPollStatus.BufferTooSmall"/>: the size needed).</summary>
        public int Length
        {
            get { return _length; }
        }

        /// <summary>True for a text message.</summary>
        public bool IsText
        {
            get { return _kind == WsMessageKind.Text; }
        }

        /// <summary>True for a binary message.</summary>
        public bool IsBinary
        {
            get { return _kind == WsMessageKind.Binary; }
        }

        /// <summary>True for the close message (the server's close frame, or 1006 when the connection dropped).</summary>
        public bool IsClose
        {
            get { return _kind == WsMessageKind.Close; }
        }

        /// <summary>True when the payload is borrowed from the library rather than copied into an array.</summary>
        public bool IsBorrowed
        {
            get { return _array == null && _pointer != null; }
        }

        /// <summary>False once the payload may have been overwritten (a later poll, or the owner was disposed).</summary>
        public bool IsValid
        {
            get { return _guard == null || _guard.Version == _version; }
        }

        /// <summary>The array holding the payload at [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>), or null for a borrowed payload.</summary>
        public byte[] Array
        {
            get
            {
                Check();
                return _array;
            }
        }

        /// <summary>Where the payload starts in <see cref="Array"/>.</summary>
        public int Offset
        {
            get { return _offset; }
        }

        /// <summary>The payload, without copying.</summary>
        public ReadOnlySpan<byte> Span
        {
            get
            {
                Check();
                if (_array != null)
                {
                    return new ReadOnlySpan<byte>(_array, _offset, _length);
                }
                if (_pointer == null)
                {
                    return ReadOnlySpan<byte>.Empty;
                }
                return new ReadOnlySpan<byte>(_pointer, _length);
            }
        }

        /// <summary>Copies the payload into <paramref name="destination"/> at <paramref name="offset"/>.</summary>
        /// <param name="destination">Target array with room for <see cref="Length"/> bytes.</param>
        /// <param name="offset">Where to start writing.</param>
        /// <returns>The number of bytes copied (<see cref="Length"/>).</returns>
        public int CopyTo(byte[] destination, int offset)
        {
            Check();
            Ensure.Range(destination, offset, _length, "destination");
            if (_array != null)
            {
                Buffer.BlockCopy(_array, _offset, destination, offset, _length);
            }
            else if (_length > 0)
            {
                fixed (byte* d = destination)
                {
                    Buffer.MemoryCopy(_pointer, d + offset, destination.Length - offset, _length);
                }
            }
            return _length;
        }

        /// <summary>A new array with a copy of the payload (allocates).</summary>
        /// <returns>The payload bytes.</returns>
        public byte[] ToArray()
        {
            Check();
            byte[] copy = new byte[_length];
            CopyTo(copy, 0);
            return copy;
        }

        /// <summary>The payload decoded as UTF-8 (allocates a string): the text, or for a close the reason.</summary>
        /// <returns>The decoded text.</returns>
        public string GetText()
        {
            Check();
            if (_length == 0)
            {
                return string.Empty;
            }
            if (_array != null)
            {
                return Encoding.UTF8.GetString(_array, _offset, _length);
            }
            return Encoding.UTF8.GetString(_pointer, _length);
        }

        /// <summary>A short description such as "Text (5 bytes)".</summary>
        /// <returns>The description.</returns>
        public override string ToString()
        {
            return _kind == WsMessageKind.Close
                ? "Close " + _closeCode + " (" + _length + " bytes)"
                : _kind + " (" + _length + " bytes)";
        }

        private void Check()
        {
            if (_guard != null && _guard.Version != _version)
            {
                throw new InvalidOperationException(
                    "the message's payload is no longer valid: a later poll (or Dispose) reused it; copy what you keep");
            }
        }
    }
}
