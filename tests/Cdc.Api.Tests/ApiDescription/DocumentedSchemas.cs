using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Cdc.Api.Tests.ApiDescription;

/// <summary>
/// The schemas of the server's OpenAPI document (its <c>components.schemas</c>, JSON Schema 2020-12 as OpenAPI 3.1
/// writes them), checked against real answers with JsonSchema.Net: an answer the document does not describe fails.
/// </summary>
internal sealed class DocumentedSchemas(string document)
{
    private readonly JsonObject _schemas = JsonNode.Parse(document)!["components"]!["schemas"]!.AsObject();

    public IEnumerable<string> Names => _schemas.Select(kv => kv.Key);

    /// <summary>Fails with the validator's errors unless <paramref name="instance"/> is valid against the named schema.</summary>
    public void AssertValid(string schemaName, JsonNode? instance)
    {
        var errors = Errors(schemaName, instance);
        Assert.True(errors.Count == 0,
            $"the answer does not match the documented schema {schemaName}:\n  {string.Join("\n  ", errors)}\nanswer: {instance?.ToJsonString()}");
    }

    public bool IsValid(string schemaName, JsonNode? instance) => Errors(schemaName, instance).Count == 0;

    private List<string> Errors(string schemaName, JsonNode? instance)
    {
        Assert.True(_schemas.ContainsKey(schemaName), $"the document has no schema {schemaName}");
        // The component schemas as $defs of one schema, their references rewritten to match.
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$defs"] = _schemas.DeepClone(),
            ["$ref"] = $"#/$defs/{schemaName}",
        };
        var text = root.ToJsonString().Replace("\"#/components/schemas/", "\"#/$defs/", StringComparison.Ordinal);
        var schema = JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri($"https://cdc.test/schemas/{schemaName}"));
        using var json = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var result = schema.Evaluate(json.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}"))];
    }
}
