using System.Reflection;
using Scalar.AspNetCore;

namespace Cdc.Api.Http;

/// <summary>
/// The API's OpenAPI 3.1 description at <c>GET /openapi/v1.json</c> and a browsable reference of it at
/// <c>/scalar/v1</c> (Scalar, its script served by the server itself). The document is written by hand and embedded in
/// this assembly: the single <c>POST /cdc</c> route carries eight request types, which it describes as a
/// <c>oneOf</c> with a discriminator on <c>request_type</c>, each with its <c>request_data</c> and answer, and the error
/// table; the audit, metrics and health endpoints beside it. The tests check it against the server's answers.
/// </summary>
public static class ApiDescription
{
    public const string DocumentPath = "/openapi/v1.json";

    public static void Map(IEndpointRouteBuilder app)
    {
        var document = Document();
        // The description of the API is public (it holds no data); the API it describes needs the token.
        app.MapGet(DocumentPath, () => Results.Text(document, "application/json; charset=utf-8")).ExcludeFromDescription().AllowAnonymous();
        app.MapScalarApiReference(options =>
        {
            options.Title = "Milvus CDC server API";
            options.OpenApiRoutePattern = "/openapi/{documentName}.json";
            // Nothing from outside this server: no web fonts, no telemetry, none of Scalar's hosted services (its
            // developer toolbar, its AI chat).
            options.DefaultFonts = false;
            options.Telemetry = false;
            options.ShowDeveloperTools = DeveloperToolsVisibility.Never;
            options.Agent = new ScalarAgentOptions { Disabled = true };
        }).AllowAnonymous();
    }

    /// <summary>The embedded document's text.</summary>
    public static string Document()
    {
        var assembly = Assembly.GetExecutingAssembly();
        using var stream = assembly.GetManifestResourceStream("ApiDescription/openapi.json")
                           ?? throw new InvalidOperationException($"ApiDescription/openapi.json is not embedded in {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
