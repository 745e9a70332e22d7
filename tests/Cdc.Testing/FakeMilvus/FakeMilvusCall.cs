using Google.Protobuf;

namespace Cdc.Testing.FakeMilvus;

/// <summary>One RPC the fake received: method name, request headers (lower-case keys) and the decoded request.</summary>
public sealed record FakeMilvusCall(string Method, IReadOnlyDictionary<string, string> Metadata, IMessage Request)
{
    public string? DbName => Metadata.GetValueOrDefault("dbname");

    public string? Authorization => Metadata.GetValueOrDefault("authorization");

    public TRequest RequestAs<TRequest>() where TRequest : IMessage => (TRequest)Request;
}
