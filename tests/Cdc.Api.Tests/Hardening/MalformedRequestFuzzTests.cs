using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Cdc.Api.Tests.Hardening;

/// <summary>
/// Thousands of malformed requests, generated from valid envelopes by mutations that each make a request invalid
/// (bad text in a string or key, nesting past the parser's depth, a number out of range or a value of the wrong
/// type in a field the request reads, a truncated body, another method, another content type, a body over the
/// limit with a length or chunked), sent over real HTTP. Every answer must be the documented envelope with a
/// documented status (never 500), no event may reach the store, no task may exist, and the server must still be up.
/// The seed is fixed: a failure names the seed, the request's number and its mutations, and the same run reproduces it.
/// </summary>
public sealed class MalformedRequestFuzzTests(SmallLimitServer server, ITestOutputHelper output) : IClassFixture<SmallLimitServer>
{
    /// <summary>Fixed, so that a run is reproducible; CDC_FUZZ_SEED runs another sequence (the failure message names it).</summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("CDC_FUZZ_SEED"), out var seed) ? seed : 20261121;
    private const int Requests = 3000;
    private static readonly int[] DocumentedStatuses = [400, 405, 413, 415];

    private const string UnknownTaskId = "0123456789abcdef0123456789abcdef";

    /// <summary>Valid envelopes, and the fields each one reads with their JSON type.</summary>
    private static readonly (string Json, (string Path, string Type)[] ReadFields)[] Bases =
    [
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://localhost:19530","token":"root:Milvus","connect_timeout":10},"collection_infos":[{"name":"*"}]}}""",
            [("request_data.milvus_connect_param", "object"), ("request_data.milvus_connect_param.uri", "string"), ("request_data.milvus_connect_param.token", "string"),
             ("request_data.milvus_connect_param.connect_timeout", "number"), ("request_data.collection_infos", "array"), ("request_data.collection_infos[0]", "object"),
             ("request_data.collection_infos[0].name", "string")]),
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"host":"localhost","port":19530,"username":"root","password":"Milvus"},"db_collections":{"db1":[{"name":"*"}]},"task_id":"fuzz-1","disable_auto_start":true}}""",
            [("request_data.milvus_connect_param.host", "string"), ("request_data.milvus_connect_param.port", "number"), ("request_data.milvus_connect_param.username", "string"),
             ("request_data.db_collections", "object"), ("request_data.db_collections.db1", "array"), ("request_data.task_id", "string")]),
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"https://m:19530","dial_config":{"server_name":"m","ca_pem_path":"ca.pem"}},"collection_infos":[{"name":"*"}],"buffer_config":{"period":1,"size":2}}}""",
            [("request_data.milvus_connect_param.dial_config", "object"), ("request_data.milvus_connect_param.dial_config.ca_pem_path", "string"),
             ("request_data.buffer_config.period", "number"), ("request_data.buffer_config.size", "number")]),
        ($$$"""{"request_type":"pause","request_data":{"task_id":"{{{UnknownTaskId}}}"}}""", [("request_data.task_id", "string")]),
        ($$$"""{"request_type":"resume","request_data":{"task_id":"{{{UnknownTaskId}}}"}}""", [("request_data.task_id", "string")]),
        ($$$"""{"request_type":"delete","request_data":{"task_id":"{{{UnknownTaskId}}}","ignore_not_found":true}}""", [("request_data.task_id", "string"), ("request_data.ignore_not_found", "boolean")]),
        ($$$"""{"request_type":"get","request_data":{"task_id":"{{{UnknownTaskId}}}"}}""", [("request_data.task_id", "string")]),
        ($$$"""{"request_type":"position","request_data":{"task_id":"{{{UnknownTaskId}}}"}}""", [("request_data.task_id", "string")]),
        ("""{"request_type":"events","request_data":{"after":0,"limit":10}}""", [("request_data.after", "number"), ("request_data.limit", "number")]),
        ("""{"request_type":"list"}""", []),
        ("""{"request_type":"list","request_data":{}}""", [("request_data", "object")]),
    ];

    private static readonly string[] OddMethods =
        ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "PURGE", "LINK", "UNLINK", "VIEW", "TRACE", "X-CDC"];

    private static readonly string[] BadTexts = [@"\ud800", @"\udbff", @"\udc00", @"\udfff", @"\u0000", @"\ud800\u0000", @"\udc00\ud800"];

    private static readonly byte[][] BadBytes = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC0, 0xAF], [0xE2, 0x82]];

    private static readonly string[] HugeNumbers = ["1e400", "-1e400", "99999999999999999999999", "-2147483649", "2147483648", "1E+2147483647", "123456789012345678901234567890.5"];

    [Fact]
    public async Task Thousands_of_malformed_requests_get_documented_envelopes_store_nothing_and_leave_the_server_up()
    {
        var random = new Random(Seed);
        var requests = Enumerable.Range(0, Requests).Select(i => Generate(i, random)).ToList();
        var before = await server.HighWaterMarkAsync();

        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        foreach (var batch in requests.Chunk(4))
        {
            var answers = await Task.WhenAll(batch.Select(SendAsync));
            foreach (var (request, (answer, error)) in batch.Zip(answers))
            {
                if (answer is not null) statuses[answer.Status] = statuses.GetValueOrDefault(answer.Status) + 1;
                if ((answer is null ? $"no answer: {error}" : Problem(request, answer)) is { } problem)
                    failures.Add($"request {request.Number} ({request.Mutations}): {problem}");
            }
        }

        output.WriteLine($"seed {Seed}: {Requests} requests, statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"))}");
        Assert.True(failures.Count == 0, $"{failures.Count} answers outside the envelope or the documented statuses (seed {Seed}):\n{string.Join("\n", failures.Take(20))}");
        Assert.False(server.Server.HasExited, $"the server exited:\n{server.Server.Output}");
        Assert.Equal(200, (await server.SendAsync("GET", "/healthz")).Status);
        Assert.Equal(before, await server.HighWaterMarkAsync());
        Assert.Equal(0, await server.TaskCountAsync());
        // Each mutation kind was exercised.
        Assert.True(statuses.Keys.Order().SequenceEqual(DocumentedStatuses), $"statuses seen: {string.Join(", ", statuses.Keys)}");
    }

    private async Task<(Answer? Answer, string? Error)> SendAsync(FuzzRequest request)
    {
        try
        {
            return (await server.SendAsync(request.Method, "/cdc", request.Body, request.ContentType, request.Chunked), null);
        }
        catch (HttpRequestException ex)
        {
            return (null, $"{ex.Message} {ex.InnerException?.Message}");
        }
    }

    private static string? Problem(FuzzRequest request, Answer answer)
    {
        if (!DocumentedStatuses.Contains(answer.Status)) return $"HTTP {answer.Status}: {answer.Text}";
        if (request.Method == "HEAD") return answer.Status == 405 ? null : $"HEAD answered {answer.Status}";
        try
        {
            var json = answer.Json;
            if (json["code"]?.GetValue<int>() != answer.Status) return $"code differs from HTTP {answer.Status}: {answer.Text}";
            if (string.IsNullOrWhiteSpace(json["message"]?.GetValue<string>())) return $"no message: {answer.Text}";
            return json["data"] is null ? null : $"data in an error: {answer.Text}";
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return $"not the envelope (HTTP {answer.Status}): '{answer.Text}'";
        }
    }

    private sealed record FuzzRequest(int Number, string Mutations, string Method, byte[]? Body, string? ContentType, bool Chunked);

    private static FuzzRequest Generate(int number, Random random)
    {
        var (json, readFields) = Bases[random.Next(Bases.Length)];
        var document = JsonNode.Parse(json)!.AsObject();
        var mutations = new List<string>();
        string method = "POST", contentType = "application/json";
        var chunked = random.Next(4) == 0;
        byte[]? body = null;
        var oversize = false;

        // One to three mutations; each alone makes the request invalid.
        for (var count = 1 + random.Next(3); count > 0; count--)
        {
            switch (random.Next(10))
            {
                case 0 or 1 when body is null:
                    var text = BadTexts[random.Next(BadTexts.Length)];
                    InjectText(document, random, Marker);
                    mutations.Add($"text {text}");
                    body = Replace(Serialize(document), Encoding.UTF8.GetBytes(text));
                    break;
                case 2 when body is null:
                    var bytes = BadBytes[random.Next(BadBytes.Length)];
                    InjectText(document, random, Marker);
                    mutations.Add($"bytes {Convert.ToHexString(bytes)}");
                    body = Replace(Serialize(document), bytes);
                    break;
                case 3:
                    if (body is not null) goto default;
                    var depth = 33 + random.Next(200);
                    Replace(document, random, Nest(depth, random));
                    mutations.Add($"nesting {depth}");
                    break;
                case 4 when readFields.Length > 0 && body is null:
                    var (path, type) = readFields[random.Next(readFields.Length)];
                    var replacement = type == "number" && random.Next(2) == 0
                        ? JsonNode.Parse(HugeNumbers[random.Next(HugeNumbers.Length)])!
                        : WrongType(type, random);
                    // A path that an earlier mutation took away is left alone: that mutation made the request invalid.
                    if (TrySetPath(document, path, replacement)) mutations.Add($"{path} = {replacement.ToJsonString()}");
                    break;
                case 5 when body is null:
                    var wrong = WrongType("string", random);
                    document["request_type"] = random.Next(3) == 0 ? "explode" : wrong;
                    mutations.Add($"request_type = {document["request_type"]!.ToJsonString()}");
                    break;
                case 6:
                    method = OddMethods[random.Next(OddMethods.Length)];
                    if (random.Next(10) == 0) method = "HEAD";
                    mutations.Add($"method {method}");
                    break;
                case 7:
                    contentType = random.Next(3) switch { 0 => "text/plain", 1 => "application/x-www-form-urlencoded", _ => "application/xml" };
                    mutations.Add($"content type {contentType}");
                    break;
                case 8:
                    oversize = true;
                    mutations.Add(chunked ? "oversize chunked" : "oversize");
                    break;
                default:
                    mutations.Add("truncated");
                    var whole = body ?? Serialize(document);
                    body = whole[..random.Next(whole.Length)];
                    break;
            }
        }

        body ??= Serialize(document);
        if (oversize)
        {
            // Trailing white space: still JSON, but longer than the limit.
            var size = SmallLimitServer.MaxRequestBytes + 1 + random.Next(3 * SmallLimitServer.MaxRequestBytes);
            body = [.. body, .. Enumerable.Repeat((byte)' ', Math.Max(1, size - body.Length))];
        }

        return method == "HEAD"
            ? new FuzzRequest(number, string.Join(", ", mutations), method, null, null, false)
            : new FuzzRequest(number, string.Join(", ", mutations), method, body, contentType, chunked);
    }

    /// <summary>A placeholder string replaced by bad text or bytes once the document is serialized (ASCII, so that the
    /// serializer writes it as it is).</summary>
    private const string Marker = "QQFUZZQQ";

    private static byte[] Serialize(JsonNode document) => Encoding.UTF8.GetBytes(document.ToJsonString());

    /// <summary>The marker in <paramref name="body"/> replaced by <paramref name="bad"/>.</summary>
    private static byte[] Replace(byte[] body, byte[] bad)
    {
        var marker = Encoding.ASCII.GetBytes(Marker);
        var at = body.AsSpan().IndexOf(marker);
        if (at < 0) throw new InvalidOperationException($"the marker is missing from {Encoding.UTF8.GetString(body)}");
        return [.. body[..at], .. bad, .. body[(at + marker.Length)..]];
    }

    /// <summary>Puts <paramref name="marker"/> into a random string value or key of the document (or a new one).</summary>
    private static void InjectText(JsonObject document, Random random, string marker)
    {
        var strings = Walk(document).Where(n => n is JsonValue v && v.TryGetValue<string>(out _)).ToList();
        var objects = Walk(document).OfType<JsonObject>().ToList();
        switch (random.Next(3))
        {
            case 0 when strings.Count > 0:
                var value = (JsonValue)strings[random.Next(strings.Count)];
                var text = value.GetValue<string>();
                var at = random.Next(text.Length + 1);
                ReplaceNode(value, JsonValue.Create(text[..at] + marker + text[at..]));
                break;
            case 1:
                var target = objects[random.Next(objects.Count)];
                var key = target.Count > 0 && random.Next(2) == 0 ? target.ElementAt(random.Next(target.Count)).Key : "extra";
                var moved = target[key]?.DeepClone() ?? JsonValue.Create(1);
                target.Remove(key);
                target[key[..(key.Length / 2)] + marker + key[(key.Length / 2)..]] = moved;
                break;
            default:
                objects[random.Next(objects.Count)][$"note{random.Next(100)}"] = "x" + marker;
                break;
        }
    }

    private static IEnumerable<JsonNode> Walk(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        foreach (var inner in Walk(child))
            yield return inner;
    }

    private static void ReplaceNode(JsonNode old, JsonNode replacement)
    {
        switch (old.Parent)
        {
            case JsonObject o:
                o[old.GetPropertyName()] = replacement;
                break;
            case JsonArray a:
                a[old.GetElementIndex()] = replacement;
                break;
        }
    }

    /// <summary>Replaces a random value below the root (or adds one) by <paramref name="replacement"/>.</summary>
    private static void Replace(JsonObject document, Random random, JsonNode replacement)
    {
        var nodes = Walk(document).Skip(1).ToList();
        if (nodes.Count == 0 || random.Next(4) == 0) document["request_data"] = replacement;
        else ReplaceNode(nodes[random.Next(nodes.Count)], replacement);
    }

    private static JsonNode Nest(int depth, Random random)
    {
        JsonNode node = JsonValue.Create(1);
        for (var i = 0; i < depth; i++) node = random.Next(2) == 0 ? new JsonArray(node) : new JsonObject { ["n"] = node };
        return node;
    }

    private static JsonNode WrongType(string type, Random random)
    {
        JsonNode[] candidates = type switch
        {
            "string" => [JsonValue.Create(42), JsonValue.Create(true), new JsonArray("a"), new JsonObject { ["a"] = "b" }],
            "number" => [JsonValue.Create("10"), JsonValue.Create(false), new JsonArray(1), new JsonObject()],
            "boolean" => [JsonValue.Create("true"), JsonValue.Create(1), new JsonArray(true)],
            "array" => [JsonValue.Create("*"), JsonValue.Create(3), new JsonObject { ["name"] = "*" }],
            _ => [JsonValue.Create("{}"), JsonValue.Create(7), new JsonArray(new JsonObject())],
        };
        return candidates[random.Next(candidates.Length)];
    }

    /// <summary>Sets the value at a path such as <c>request_data.collection_infos[0].name</c>; false when it is gone.</summary>
    private static bool TrySetPath(JsonObject document, string path, JsonNode value)
    {
        JsonNode? node = document;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var index = part.EndsWith(']') ? int.Parse(part[(part.IndexOf('[') + 1)..^1]) : -1;
            var name = index >= 0 ? part[..part.IndexOf('[')] : part;
            var last = i == parts.Length - 1;
            if (node is not JsonObject parent || !parent.ContainsKey(name)) return false;
            if (index < 0)
            {
                if (last) parent[name] = value;
                else node = parent[name];
            }
            else
            {
                if (parent[name] is not JsonArray array || array.Count <= index) return false;
                if (last) array[index] = value;
                else node = array[index];
            }
        }

        return true;
    }
}
