using Cdc.Infrastructure.Milvus.Grpc;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// What a gRPC unary call answers, whatever the transport: either a response message (already gRPC-framed: 1 byte
/// flag, 4 bytes big-endian length, the protobuf bytes) followed by grpc-status 0 trailers, or a trailers-only error.
/// </summary>
public sealed record GrpcAnswer
{
    private GrpcAnswer(byte[]? framedResponse, GrpcStatusCode status, string message)
    {
        FramedResponse = framedResponse;
        Status = status;
        Message = message;
    }

    /// <summary>The framed response message; null for a trailers-only answer.</summary>
    public byte[]? FramedResponse { get; }

    public GrpcStatusCode Status { get; }

    /// <summary>The grpc-message (not yet percent-encoded); empty when OK.</summary>
    public string Message { get; }

    public static GrpcAnswer Ok(byte[] framedResponse) => new(framedResponse, GrpcStatusCode.Ok, "");

    public static GrpcAnswer TrailersOnly(GrpcStatusCode status, string message) => new(null, status, message);
}
