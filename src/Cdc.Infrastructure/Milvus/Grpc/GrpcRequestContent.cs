using System.Buffers;
using System.Net;
using System.Net.Http.Headers;

namespace Cdc.Infrastructure.Milvus.Grpc;

/// <summary>
/// A unary request's HTTP/2 body: one gRPC frame (<see cref="GrpcFraming"/>) of a <see cref="GrpcMessageBody"/>.
/// Large pieces are written to the request stream as they are; small ones are gathered first, so a tag or a length
/// does not become a DATA frame of its own. The content can be sent again (a retried call).
/// </summary>
internal sealed class GrpcRequestContent : HttpContent
{
    /// <summary>Pieces shorter than this are gathered into one write.</summary>
    private const int GatherBelow = 16 * 1024;

    private const int GatherBuffer = 64 * 1024;

    private readonly GrpcMessageBody _body;

    public GrpcRequestContent(GrpcMessageBody body)
    {
        _body = body;
        Headers.ContentType = new MediaTypeHeaderValue(GrpcFraming.ContentType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var gather = ArrayPool<byte>.Shared.Rent(GatherBuffer);
        try
        {
            GrpcFraming.WritePrefix(gather, _body.Length);
            var gathered = GrpcFraming.PrefixLength;
            foreach (var piece in _body.Pieces)
            {
                foreach (var segment in piece)
                {
                    if (segment.Length < GatherBelow)
                    {
                        if (gathered + segment.Length > gather.Length)
                        {
                            await stream.WriteAsync(gather.AsMemory(0, gathered), cancellationToken).ConfigureAwait(false);
                            gathered = 0;
                        }

                        segment.Span.CopyTo(gather.AsSpan(gathered));
                        gathered += segment.Length;
                        continue;
                    }

                    if (gathered > 0)
                    {
                        await stream.WriteAsync(gather.AsMemory(0, gathered), cancellationToken).ConfigureAwait(false);
                        gathered = 0;
                    }

                    await stream.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                }
            }

            if (gathered > 0)
            {
                await stream.WriteAsync(gather.AsMemory(0, gathered), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gather);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = GrpcFraming.PrefixLength + _body.Length;
        return true;
    }
}
