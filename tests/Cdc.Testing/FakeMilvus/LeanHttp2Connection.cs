using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using Cdc.Infrastructure.Milvus.Grpc;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// One HTTP/2 connection of <see cref="LeanHttp2Server"/> (RFC 9113): checks the client preface, sends our SETTINGS
/// and connection window, then reads frames in large chunks on one loop. Control answers (SETTINGS ack, PING ack,
/// WINDOW_UPDATE credit) are gathered while a chunk is parsed and written before the next read. A stream whose
/// request ended is answered by a task of its own; all writes go through one lock, and DATA we send never exceeds
/// the client's connection and stream windows.
/// </summary>
internal sealed class LeanHttp2Connection
{
    private const int ReadBufferSize = 256 * 1024;
    private const int FrameHeaderLength = 9;

    /// <summary>The largest frame payload we accept: SETTINGS_MAX_FRAME_SIZE is left at its default.</summary>
    private const int MaxFrameSize = 16384;

    /// <summary>Our receive windows, per stream (SETTINGS_INITIAL_WINDOW_SIZE) and for the connection.</summary>
    private const int ReceiveWindow = 16 * 1024 * 1024;

    /// <summary>Credit is given back once half a window was consumed.</summary>
    private const int CreditThreshold = ReceiveWindow / 2;

    private const int DefaultWindow = 65535;

    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9;
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;

    private static readonly byte[] ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly LeanGrpcHandler _handler;
    private readonly CancellationTokenSource _closed = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private int _closing;

    // Read loop only.
    private readonly HpackDecoder _decoder = new();
    private readonly Dictionary<int, LeanHttp2Stream> _streams = [];
    private readonly ArrayBufferWriter<byte> _control = new();
    private readonly ArrayBufferWriter<byte> _headerBlock = new();
    private int _headerBlockStream;
    private bool _headerBlockEndsStream;
    private int _connectionUnacknowledged;

    // Send-side flow control, under _flow.
    private readonly object _flow = new();
    private readonly Dictionary<int, long> _streamSendWindows = [];
    private long _connectionSendWindow = DefaultWindow;
    private int _peerInitialWindow = DefaultWindow;
    private int _peerMaxFrameSize = MaxFrameSize;
    private TaskCompletionSource _windowGrew = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LeanHttp2Connection(Socket socket, LeanGrpcHandler handler)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _handler = handler;
    }

    /// <summary>Serves the connection until the client leaves, sends GOAWAY, breaks the protocol, or the server stops.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var stopRegistration = stopping.Register(Close);
        var token = _closed.Token;
        try
        {
            var buffer = new byte[ReadBufferSize];
            var end = await _stream.ReadAtLeastAsync(buffer, ClientPreface.Length, throwOnEndOfStream: false, token);
            if (end < ClientPreface.Length || !buffer.AsSpan(0, ClientPreface.Length).SequenceEqual(ClientPreface)) return;
            var start = ClientPreface.Length;

            // Our SETTINGS (MAX_CONCURRENT_STREAMS 1000, INITIAL_WINDOW_SIZE 16 MiB) and the connection window to 16 MiB.
            Span<byte> settings = stackalloc byte[12];
            WriteSetting(settings, 0x3, 1000);
            WriteSetting(settings[6..], 0x4, ReceiveWindow);
            AppendFrame(_control, Settings, 0, 0, settings);
            AppendWindowUpdate(_control, 0, ReceiveWindow - DefaultWindow);

            while (true)
            {
                while (end - start >= FrameHeaderLength)
                {
                    var length = (buffer[start] << 16) | (buffer[start + 1] << 8) | buffer[start + 2];
                    if (length > MaxFrameSize) throw new InvalidDataException($"HTTP/2 frame of {length} bytes above {MaxFrameSize}");
                    if (end - start < FrameHeaderLength + length) break;
                    var type = buffer[start + 3];
                    var flags = buffer[start + 4];
                    var streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(start + 5)) & 0x7FFFFFFF);
                    var payload = buffer.AsSpan(start + FrameHeaderLength, length);
                    start += FrameHeaderLength + length;
                    if (!OnFrame(type, flags, streamId, payload)) return;
                }

                if (_control.WrittenCount > 0)
                {
                    await WriteAsync(_control.WrittenMemory);
                    _control.ResetWrittenCount();
                }

                if (start == end)
                {
                    start = end = 0;
                }
                else if (buffer.Length - end < FrameHeaderLength + MaxFrameSize)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }

                var read = await _stream.ReadAsync(buffer.AsMemory(end), token);
                if (read == 0) return;
                end += read;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException or OperationCanceledException
                                       or ObjectDisposedException or ArgumentOutOfRangeException)
        {
            // The client left, broke the protocol (a malformed frame too short for its type included), or the server
            // stops: the connection ends either way.
        }
        finally
        {
            Close();
        }
    }

    /// <summary>Closes the socket; answers still being prepared are dropped.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        _closed.Cancel();
        _stream.Dispose();
    }

    /// <summary>Handles one frame; false when the connection is to end (GOAWAY).</summary>
    private bool OnFrame(byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        if (_headerBlockStream != 0 && (type != Continuation || streamId != _headerBlockStream))
        {
            throw new InvalidDataException("HTTP/2 header block interrupted");
        }

        switch (type)
        {
            case Data:
                OnData(flags, streamId, payload);
                break;
            case Headers:
            {
                if (streamId == 0) throw new InvalidDataException("HEADERS on stream 0");
                var fragment = Unpadded(flags, payload);
                if ((flags & Priority) != 0) fragment = fragment[5..];
                _headerBlockStream = streamId;
                _headerBlockEndsStream = (flags & EndStream) != 0;
                _headerBlock.ResetWrittenCount();
                _headerBlock.Write(fragment);
                if ((flags & EndHeaders) != 0) OnHeaderBlock();
                break;
            }

            case Continuation:
                if (_headerBlockStream == 0) throw new InvalidDataException("CONTINUATION without HEADERS");
                _headerBlock.Write(payload);
                if ((flags & EndHeaders) != 0) OnHeaderBlock();
                break;
            case RstStream:
                if (_streams.Remove(streamId, out var reset)) reset.Reset = true;
                lock (_flow)
                {
                    _streamSendWindows.Remove(streamId);
                }

                break;
            case Settings:
                if ((flags & Ack) == 0) OnSettings(payload);
                break;
            case Ping:
                if ((flags & Ack) == 0) AppendFrame(_control, Ping, Ack, 0, payload);
                break;
            case GoAway:
                return false;
            case WindowUpdate:
                OnWindowUpdate(streamId, (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF));
                break;
            default:
                // PRIORITY, PUSH_PROMISE (never from a client) and unknown types are ignored.
                break;
        }

        return true;
    }

    /// <summary>The body bytes go to their stream; flow-control credit goes back once half a window was used.</summary>
    private void OnData(byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        _connectionUnacknowledged += payload.Length;
        var ended = (flags & EndStream) != 0;
        if (_streams.TryGetValue(streamId, out var stream))
        {
            stream.Append(Unpadded(flags, payload));
            stream.Unacknowledged += payload.Length;
            if (ended)
            {
                Finish(stream);
            }
            else if (stream.Unacknowledged >= CreditThreshold)
            {
                AppendWindowUpdate(_control, streamId, stream.Unacknowledged);
                stream.Unacknowledged = 0;
            }
        }

        if (_connectionUnacknowledged >= CreditThreshold || (ended && _connectionUnacknowledged > 0))
        {
            AppendWindowUpdate(_control, 0, _connectionUnacknowledged);
            _connectionUnacknowledged = 0;
        }
    }

    /// <summary>A complete header block: a new request's headers, or the trailers of one being received.</summary>
    private void OnHeaderBlock()
    {
        var streamId = _headerBlockStream;
        _headerBlockStream = 0;
        if (!_streams.TryGetValue(streamId, out var stream))
        {
            stream = new LeanHttp2Stream(streamId);
            _streams.Add(streamId, stream);
            lock (_flow)
            {
                _streamSendWindows[streamId] = _peerInitialWindow;
            }
        }

        _decoder.Decode(_headerBlock.WrittenSpan, stream.Headers);
        if (_headerBlockEndsStream) Finish(stream);
    }

    /// <summary>The request is complete: answer it on the thread pool, reading goes on.</summary>
    private void Finish(LeanHttp2Stream stream)
    {
        _streams.Remove(stream.Id);
        _ = Task.Run(() => AnswerAsync(stream));
    }

    private void OnSettings(ReadOnlySpan<byte> payload)
    {
        if (payload.Length % 6 != 0) throw new InvalidDataException("SETTINGS payload is not a multiple of 6");
        for (var i = 0; i < payload.Length; i += 6)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(payload[i..]);
            var value = BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]);
            switch (id)
            {
                case 0x4:
                    if (value > int.MaxValue) throw new InvalidDataException("SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
                    lock (_flow)
                    {
                        // A new initial window changes every open stream's window by the difference (RFC 9113 6.9.2).
                        var delta = (int)value - _peerInitialWindow;
                        _peerInitialWindow = (int)value;
                        foreach (var id2 in _streamSendWindows.Keys.ToList())
                        {
                            _streamSendWindows[id2] += delta;
                        }
                    }

                    SignalWindow();
                    break;
                case 0x5:
                    if (value is < MaxFrameSize or > 16_777_215) throw new InvalidDataException("SETTINGS_MAX_FRAME_SIZE out of range");
                    lock (_flow)
                    {
                        _peerMaxFrameSize = (int)value;
                    }

                    break;
            }
        }

        AppendFrame(_control, Settings, Ack, 0, []);
    }

    private void OnWindowUpdate(int streamId, int increment)
    {
        lock (_flow)
        {
            if (streamId == 0)
            {
                _connectionSendWindow += increment;
            }
            else if (_streamSendWindows.ContainsKey(streamId))
            {
                _streamSendWindows[streamId] += increment;
            }
        }

        SignalWindow();
    }

    private void SignalWindow()
    {
        TaskCompletionSource grew;
        lock (_flow)
        {
            grew = _windowGrew;
            _windowGrew = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        grew.TrySetResult();
    }

    /// <summary>Runs the handler for a finished request and writes its answer.</summary>
    private async Task AnswerAsync(LeanHttp2Stream stream)
    {
        try
        {
            var path = "";
            var headers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in stream.Headers)
            {
                if (name == ":path")
                {
                    path = value;
                    continue;
                }

                var key = name == ":authority" ? "host" : name;
                if (key.StartsWith(':')) continue;
                key = key.ToLowerInvariant();
                headers[key] = headers.TryGetValue(key, out var earlier) ? earlier + "," + value : value;
            }

            GrpcAnswer answer;
            try
            {
                answer = await _handler(path, headers, stream.Body, _closed.Token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !_closed.IsCancellationRequested)
            {
                answer = GrpcAnswer.TrailersOnly(GrpcStatusCode.Unknown, ex.Message);
            }

            if (!stream.Reset) await WriteAnswerAsync(stream.Id, answer);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is gone; so is the answer.
        }
        finally
        {
            stream.ReturnBody();
            lock (_flow)
            {
                _streamSendWindows.Remove(stream.Id);
            }
        }
    }

    /// <summary>
    /// HEADERS (:status 200, content-type), the framed message as DATA within the send windows, then grpc-status
    /// trailers with END_STREAM; or, for an error, one trailers-only HEADERS frame. Gathered into as few writes as
    /// the windows allow.
    /// </summary>
    private async Task WriteAnswerAsync(int streamId, GrpcAnswer answer)
    {
        var output = new ArrayBufferWriter<byte>(256 + (answer.FramedResponse?.Length ?? 0) * 21 / 20);
        var block = new List<byte>(128);
        HpackEncoder.Write(block, ":status", "200");
        HpackEncoder.Write(block, "content-type", GrpcFraming.ContentType);
        if (answer.FramedResponse is not { } data)
        {
            HpackEncoder.Write(block, "grpc-status", ((int)answer.Status).ToString(CultureInfo.InvariantCulture));
            HpackEncoder.Write(block, "grpc-message", Uri.EscapeDataString(answer.Message));
            AppendFrame(output, Headers, EndStream | EndHeaders, streamId, block.ToArray());
            await WriteAsync(output.WrittenMemory);
            return;
        }

        AppendFrame(output, Headers, EndHeaders, streamId, block.ToArray());
        var offset = 0;
        while (offset < data.Length)
        {
            var granted = ReserveSendWindow(streamId, data.Length - offset, out var windowGrew);
            if (granted == 0)
            {
                if (output.WrittenCount > 0)
                {
                    await WriteAsync(output.WrittenMemory);
                    output.ResetWrittenCount();
                }

                await windowGrew!.WaitAsync(_closed.Token);
                continue;
            }

            AppendFrame(output, Data, 0, streamId, data.AsSpan(offset, granted));
            offset += granted;
        }

        block.Clear();
        HpackEncoder.Write(block, "grpc-status", "0");
        AppendFrame(output, Headers, EndStream | EndHeaders, streamId, block.ToArray());
        await WriteAsync(output.WrittenMemory);
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes (one frame) of send window; 0 and a task to wait on if none.</summary>
    private int ReserveSendWindow(int streamId, int wanted, out Task? windowGrew)
    {
        lock (_flow)
        {
            if (!_streamSendWindows.TryGetValue(streamId, out var streamWindow)) throw new OperationCanceledException("the stream was reset");
            var granted = (int)Math.Min(Math.Min(wanted, _peerMaxFrameSize), Math.Min(streamWindow, _connectionSendWindow));
            if (granted <= 0)
            {
                windowGrew = _windowGrew.Task;
                return 0;
            }

            _streamSendWindows[streamId] = streamWindow - granted;
            _connectionSendWindow -= granted;
            windowGrew = null;
            return granted;
        }
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        await _writeLock.WaitAsync(_closed.Token);
        try
        {
            await _stream.WriteAsync(bytes, _closed.Token);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The frame's content without its padding (PADDED flag: a pad-length byte first, that many bytes last).</summary>
    private static ReadOnlySpan<byte> Unpadded(byte flags, ReadOnlySpan<byte> payload)
    {
        if ((flags & Padded) == 0) return payload;
        if (payload.Length == 0 || payload[0] >= payload.Length) throw new InvalidDataException("HTTP/2 padding exceeds the frame");
        return payload[1..^payload[0]];
    }

    private static void AppendFrame(ArrayBufferWriter<byte> output, byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(FrameHeaderLength + payload.Length);
        span[0] = (byte)(payload.Length >> 16);
        span[1] = (byte)(payload.Length >> 8);
        span[2] = (byte)payload.Length;
        span[3] = type;
        span[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(span[5..], (uint)streamId);
        payload.CopyTo(span[FrameHeaderLength..]);
        output.Advance(FrameHeaderLength + payload.Length);
    }

    private static void AppendWindowUpdate(ArrayBufferWriter<byte> output, int streamId, int increment)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)increment);
        AppendFrame(output, WindowUpdate, 0, streamId, payload);
    }

    private static void WriteSetting(Span<byte> target, ushort id, uint value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(target, id);
        BinaryPrimitives.WriteUInt32BigEndian(target[2..], value);
    }
}

/// <summary>
/// A request being received: its decoded headers, its body so far, and the credit not yet given back. The body buffer
/// comes from <see cref="ArrayPool{T}.Shared"/> (a 3 MB insert would otherwise be a large-object allocation per call)
/// and goes back with <see cref="ReturnBody"/> once the answer is made.
/// </summary>
internal sealed class LeanHttp2Stream(int id)
{
    private byte[] _body = [];
    private int _length;
    private bool _sized;

    public int Id { get; } = id;

    public List<(string Name, string Value)> Headers { get; } = [];

    public int Unacknowledged { get; set; }

    /// <summary>Set by RST_STREAM: the answer is not written.</summary>
    public volatile bool Reset;

    public ReadOnlyMemory<byte> Body => _body.AsMemory(0, _length);

    /// <summary>Appends body bytes; once the gRPC prefix is in, the buffer is sized for the whole message at once.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _body.Length)
        {
            Grow(Math.Max(Math.Max(_body.Length * 2, _length + data.Length), 1024));
        }

        data.CopyTo(_body.AsSpan(_length));
        _length += data.Length;
        if (!_sized && _length >= GrpcFraming.PrefixLength)
        {
            _sized = true;
            var total = GrpcFraming.PrefixLength + (long)BinaryPrimitives.ReadUInt32BigEndian(_body.AsSpan(1, 4));
            if (total > _body.Length && total <= GrpcFraming.PrefixLength + GrpcFraming.MaxMessageLength)
            {
                Grow((int)total);
            }
        }
    }

    /// <summary>Gives the body buffer back to the pool; <see cref="Body"/> must not be used afterwards.</summary>
    public void ReturnBody()
    {
        var body = _body;
        _body = [];
        _length = 0;
        if (body.Length > 0) ArrayPool<byte>.Shared.Return(body);
    }

    private void Grow(int size)
    {
        var grown = ArrayPool<byte>.Shared.Rent(size);
        _body.AsSpan(0, _length).CopyTo(grown);
        if (_body.Length > 0) ArrayPool<byte>.Shared.Return(_body);
        _body = grown;
    }
}
