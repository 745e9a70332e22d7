using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cdc.Api.Http;
using Cdc.Testing;
using Microsoft.OpenApi;

namespace Cdc.Api.Tests.ApiDescription;

/// <summary>
/// The OpenAPI document at /openapi/v1.json: it parses and validates with Microsoft.OpenApi's reader, describes every
/// request_type of POST /cdc with a discriminator, the error table and the audit, metrics and health endpoints, and the
/// server's real answers match its schemas. The browsable reference at /scalar/v1 is served with its script.
/// </summary>
public sealed partial class OpenApiDocumentTests : IAsyncLifetime
{
    private const string ExampleTaskId = "8d5c0c1a4f2b4bd6a3c1f7e0d9b2a6c4";
    private CdcApp _app = null!;

    public async Task InitializeAsync() => _app = await CdcApp.StartAsync(new Dictionary<string, string> { ["maxTaskNum"] = "1" });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<string> DocumentTextAsync()
    {
        using var response = await _app.Client.GetAsync(Http.ApiDescription.DocumentPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task The_document_parses_validates_and_describes_every_request_type_and_endpoint()
    {
        var result = OpenApiDocument.Parse(await DocumentTextAsync(), "json");
        Assert.True(result.Diagnostic?.Errors.Count is null or 0,
            "reader errors: " + string.Join("; ", result.Diagnostic!.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, result.Diagnostic!.SpecificationVersion);
        var document = result.Document!;
        var problems = document.Validate(ValidationRuleSet.GetDefaultRuleSet())?.ToList() ?? [];
        Assert.True(problems.Count == 0, "validation errors: " + string.Join("; ", problems.Select(e => $"{e.Pointer}: {e.Message}")));

        // POST /cdc: one request schema per request_type, chosen by request_type.
        var envelope = document.Components!.Schemas!["CdcRequest"];
        Assert.Equal("request_type", envelope.Discriminator!.PropertyName);
        Assert.Equal(CdcRequests.Types.Order(), envelope.Discriminator.Mapping!.Keys.Order());
        Assert.Equal(CdcRequests.Types.Length, envelope.OneOf!.Count);
        foreach (var (type, reference) in envelope.Discriminator.Mapping)
        {
            var schema = document.Components.Schemas[reference.Reference.Id!];
            var requestType = schema.Properties!["request_type"];
            Assert.Equal([type], requestType.Enum!.Select(v => v!.GetValue<string>()));
            Assert.Contains("request_type", schema.Required!);
        }

        var cdc = document.Paths["/cdc"].Operations!;
        var post = cdc[HttpMethod.Post];
        Assert.Equal(["200", "400", "401", "409", "413", "415", "500"], post.Responses!.Keys.Order());
        Assert.Equal(CdcRequests.Types.Order(), post.RequestBody!.Content!["application/json"].Examples!.Keys.Order());
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
            Assert.Equal(["405"], cdc[method].Responses!.Keys);

        Assert.Equal(["200", "400", "401", "500"], document.Paths["/cdc/tasks/{taskId}/events"].Operations![HttpMethod.Get].Responses!.Keys.Order());
        Assert.Equal(["200", "400", "401", "500"], document.Paths["/cdc/events"].Operations![HttpMethod.Get].Responses!.Keys.Order());
        Assert.Contains("text/plain; version=0.0.4; charset=utf-8", document.Paths["/cdc/metrics"].Operations![HttpMethod.Get].Responses!["200"].Content!.Keys);
        Assert.Equal(["200"], document.Paths["/healthz"].Operations![HttpMethod.Get].Responses!.Keys);
        Assert.Equal(["200", "503"], document.Paths["/readyz"].Operations![HttpMethod.Get].Responses!.Keys.Order());
    }

    [Fact]
    public async Task Every_documented_example_request_gets_an_answer_that_matches_the_documented_schemas()
    {
        var text = await DocumentTextAsync();
        var schemas = new DocumentedSchemas(text);
        var examples = JsonNode.Parse(text)!["paths"]!["/cdc"]!["post"]!["requestBody"]!["content"]!["application/json"]!["examples"]!.AsObject();
        var taskId = "";

        // create first: the others use its task id in place of the example's.
        string[] order = ["create", "get", "list", "position", "events", "pause", "resume", "delete"];
        Assert.Equal(CdcRequests.Types.Order(), order.Order());
        foreach (var type in order)
        {
            var request = examples[type]!["value"]!.DeepClone();
            schemas.AssertValid("CdcRequest", request);
            schemas.AssertValid(type[0].ToString().ToUpperInvariant() + type[1..] + "Request", request);
            var body = request.ToJsonString().Replace(ExampleTaskId, taskId, StringComparison.Ordinal);
            var (status, answer) = await _app.PostRawAsync(body);
            Assert.True(status == 200, $"{type}: {status} {answer.ToJsonString()}");
            schemas.AssertValid("CdcResponse", answer);
            schemas.AssertValid(type switch
            {
                "create" => "CreateResponse",
                "pause" or "resume" or "delete" => "EmptyResponse",
                "get" => "GetResponse",
                "list" => "ListResponse",
                "position" => "PositionResponse",
                _ => "EventFeedResponse",
            }, answer);
            if (type == "create") taskId = answer["data"]!["task_id"]!.GetValue<string>();
            if (type == "get")
            {
                // A check that can fail: the same answer with a field the document does not describe.
                var changed = answer.DeepClone();
                changed["data"]!["undocumented"] = 1;
                Assert.False(schemas.IsValid("GetResponse", changed), "the schema check accepted an undocumented field");
            }
        }

        // The audit stream of the deleted task, over POST and GET; the feed over GET.
        var (_, events) = await _app.PostAsync("events", new { task_id = taskId });
        schemas.AssertValid("TaskEventsResponse", events);
        Assert.Equal(["task_created", "task_paused", "task_resumed", "task_deleted"],
            events["data"]!["events"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()));
        schemas.AssertValid("TaskEventsResponse", await GetJsonAsync($"/cdc/tasks/{taskId}/events", 200));
        schemas.AssertValid("EventFeedResponse", await GetJsonAsync("/cdc/events?after=0&limit=2", 200));
        schemas.AssertValid("Readiness", await GetJsonAsync("/readyz", 200));
    }

    [Fact]
    public async Task Every_error_of_the_table_answers_the_documented_error_envelope()
    {
        var schemas = new DocumentedSchemas(await DocumentTextAsync());
        var answers = new List<(int Expected, int Status, JsonNode Body)>();

        var badTimeout = CdcApp.SeedCreate();
        badTimeout["milvus_connect_param"]!["connect_timeout"] = -1;
        var (status, body) = await _app.PostAsync("create", badTimeout);
        answers.Add((400, status, body));
        (status, body) = await _app.PostAsync("pause", new { task_id = "no-such-task" });
        answers.Add((400, status, body));
        answers.Add((400, (int)HttpStatusCode.BadRequest, await GetJsonAsync("/cdc/events?after=x", 400)));
        answers.Add((405, 405, await GetJsonAsync("/cdc", 405)));
        (status, body) = await _app.PostRawAsync("{\"request_type\":\"list\"}", "text/plain");
        answers.Add((415, status, body));
        (status, body) = await _app.PostRawAsync("{\"request_type\":\"list\",\"request_data\":{\"pad\":\"" + new string('x', 1 << 20) + "\"}}");
        answers.Add((413, status, body));
        await _app.CreateSeedTaskAsync(); // maxTaskNum is 1 here: the next create reaches the limit
        (status, body) = await _app.PostAsync("create", CdcApp.SeedCreate());
        answers.Add((500, status, body));

        foreach (var (expected, actual, answer) in answers)
        {
            Assert.True(expected == actual, $"expected {expected}, got {actual}: {answer.ToJsonString()}");
            Assert.Equal(expected, answer["code"]!.GetValue<int>());
            schemas.AssertValid("ErrorResponse", answer);
        }
    }

    [Fact]
    public async Task The_browsable_reference_is_served_with_its_script_from_this_server()
    {
        using var page = await _app.Client.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("openapi/v1.json", html);
        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var src in scripts)
        {
            Assert.False(Uri.TryCreate(src, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal),
                $"the reference loads {src} from another site");
            using var script = await _app.Client.GetAsync(new Uri(new Uri(_app.Client.BaseAddress!, "/scalar/v1"), src));
            Assert.True(script.StatusCode == HttpStatusCode.OK, $"{src}: {script.StatusCode}");
            Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
            Assert.NotEmpty(await script.Content.ReadAsByteArrayAsync());
        }
    }

    private async Task<JsonNode> GetJsonAsync(string path, int expectedStatus)
    {
        using var response = await _app.Client.GetAsync(path);
        Assert.Equal(expectedStatus, (int)response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"([^\"]+)\"")]
    private static partial Regex ScriptSource();
}
