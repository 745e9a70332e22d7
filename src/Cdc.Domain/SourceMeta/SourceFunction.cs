namespace Cdc.Domain.SourceMeta;

/// <summary>A function of a source collection's schema (Milvus 2.5, e.g. BM25), as parsed facts.</summary>
/// <param name="Type">Milvus' FunctionType name, e.g. <c>BM25</c>.</param>
public sealed record SourceFunction(
    long Id,
    string Name,
    string Type,
    IReadOnlyList<string> InputFieldNames,
    IReadOnlyList<string> OutputFieldNames);
