using System.Text;

namespace Cdc.Api.Tests.Hardening;

/// <summary>The server of the malformed-input tests: a small body limit, so that oversized bodies stay small.</summary>
public sealed class SmallLimitServer : ServerProcessFixture
{
    public const int MaxRequestBytes = 4096;

    protected override void Configure(IDictionary<string, string> settings) => settings["maxRequestBytes"] = MaxRequestBytes.ToString();
}

/// <summary>
/// Requests that are not text, not the method, or too large get the documented envelope with HTTP status = code
/// (400 naming the field, 405, 413), over real HTTP, and store nothing.
/// </summary>
public sealed class MalformedInputTests(SmallLimitServer server) : IClassFixture<SmallLimitServer>
{
    /// <summary>Bad text as it appears in the body: JSON escapes, or raw bytes that are not UTF-8.</summary>
    public static readonly (string Name, byte[] Bytes, string Problem)[] BadTexts =
    [
        ("lone high surrogate", Encoding.ASCII.GetBytes(@"\ud800"), "lone UTF-16 surrogate"),
        ("lone low surrogate", Encoding.ASCII.GetBytes(@"\udfff"), "lone UTF-16 surrogate"),
        ("NUL", Encoding.ASCII.GetBytes(@"\u0000"), "NUL character"),
        ("invalid UTF-8 (C3 28)", [0xC3, 0x28], "not valid UTF-8"),
        ("invalid UTF-8 (FF)", [0xFF], "not valid UTF-8"),
        ("UTF-8 of a surrogate (ED A0 80)", [0xED, 0xA0, 0x80], "not valid UTF-8"),
    ];

    /// <summary>Envelopes with one place (@) for bad text, and the field the answer must name.</summary>
    public static readonly (string Template, string Field)[] Places =
    [
        ("""{"request_type":"cr@ate"}""", "request_type: the string"),
        ("""{"request_type":"pause","request_data":{"task_id":"a@b"}}""", "task_id: the string"),
        ("""{"request_type":"delete","request_data":{"task_id":"@"}}""", "task_id: the string"),
        ("""{"request_type":"get","request_data":{"task_id":"x","extra":["ok","@"]}}""", "extra[1]: the string"),
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h@st:19530"},"collection_infos":[{"name":"*"}]}}""", "milvus_connect_param.uri: the string"),
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1","token":"root:@"},"collection_infos":[{"name":"*"}]}}""", "milvus_connect_param.token: the string"),
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"https://h:1","dial_config":{"ca_pem_path":"ca@.pem"}},"collection_infos":[{"name":"*"}]}}""", "milvus_connect_param.dial_config.ca_pem_path: the string"),
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"bo@ks"}]}}""", "collection_infos[0].name: the string"),
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"db_collections":{"d@b":[{"name":"*"}]}}}""", "db_collections: a key"),
        ("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"*"}],"rpc_channel_info":{"position":"@"}}}""", "rpc_channel_info.position: the string"),
        ("""{"request_type":"list","request_data":{"k@y":1}}""", "request_data: a key"),
        ("""{"request_t@pe":"list"}""", "request: a key"),
    ];

    public static IEnumerable<object[]> BadTextCases() =>
        from place in Enumerable.Range(0, Places.Length)
        from text in Enumerable.Range(0, BadTexts.Length)
        select new object[] { place, text };

    [Theory]
    [MemberData(nameof(BadTextCases))]
    public async Task Bad_text_in_any_string_or_key_is_a_400_naming_the_field_and_stores_nothing(int place, int text)
    {
        var (template, field) = Places[place];
        var (_, bytes, problem) = BadTexts[text];
        var at = template.IndexOf('@');
        byte[] body = [.. Encoding.UTF8.GetBytes(template[..at]), .. bytes, .. Encoding.UTF8.GetBytes(template[(at + 1)..])];
        var before = await server.HighWaterMarkAsync();

        var answer = (await server.SendAsync("POST", "/cdc", body)).AssertEnvelope(400);

        Assert.StartsWith("fail to unmarshal the request, error: ", answer.Message);
        Assert.Contains(field, answer.Message);
        Assert.Contains(problem, answer.Message);
        Assert.Equal(before, await server.HighWaterMarkAsync());
        Assert.Equal(0, await server.TaskCountAsync());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    [InlineData("PROPFIND")]
    [InlineData("PROPPATCH")]
    [InlineData("MKCOL")]
    [InlineData("COPY")]
    [InlineData("MOVE")]
    [InlineData("LOCK")]
    [InlineData("UNLOCK")]
    [InlineData("SEARCH")]
    [InlineData("REPORT")]
    [InlineData("PURGE")]
    [InlineData("TRACE")]
    [InlineData("BREW")]
    public async Task Every_method_but_POST_on_cdc_is_a_405_envelope(string method)
    {
        var answer = (await server.SendAsync(method, "/cdc", Encoding.UTF8.GetBytes("""{"request_type":"list"}"""))).AssertEnvelope(405);
        Assert.Equal("only support the POST method", answer.Message);
        Assert.Equal("POST", answer.ContentHeaders.Allow.Single());
    }

    [Fact]
    public async Task HEAD_on_cdc_is_a_405_with_the_allowed_method()
    {
        var answer = await server.SendAsync("HEAD", "/cdc");
        Assert.Equal(405, answer.Status);
        Assert.Equal("POST", answer.ContentHeaders.Allow.Single());
    }

    [Theory]
    [InlineData("POST", "/cdc/events")]
    [InlineData("PROPFIND", "/cdc/events")]
    [InlineData("DELETE", "/cdc/tasks/abc/events")]
    [InlineData("MKCOL", "/cdc/tasks/abc/events")]
    public async Task The_audit_endpoints_answer_other_methods_with_a_405_envelope(string method, string path)
    {
        var answer = (await server.SendAsync(method, path, Encoding.UTF8.GetBytes("{}"))).AssertEnvelope(405);
        Assert.Contains($"the method {method} is not allowed here, only GET", answer.Message);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 70_000)]
    [InlineData(true, 70_000)]
    public async Task A_body_over_maxRequestBytes_is_a_413_whether_it_has_a_length_or_is_chunked(bool chunked, int over)
    {
        var before = await server.HighWaterMarkAsync();
        var answer = (await server.SendAsync("POST", "/cdc", Padded("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"*"}]}}""",
            SmallLimitServer.MaxRequestBytes + over), chunked: chunked)).AssertEnvelope(413);

        Assert.Equal($"the request body is larger than {SmallLimitServer.MaxRequestBytes} bytes", answer.Message);
        Assert.Equal(before, await server.HighWaterMarkAsync());
        Assert.Equal(0, await server.TaskCountAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_of_exactly_maxRequestBytes_is_read(bool chunked)
    {
        var answer = await server.SendAsync("POST", "/cdc", Padded("""{"request_type":"list"}""", SmallLimitServer.MaxRequestBytes), chunked: chunked);
        Assert.Equal(200, answer.Status);
    }

    [Theory]
    [InlineData("/cdc/tasks/a%01b/events", "task_id: no task has this id")]
    [InlineData("/cdc/tasks/%ED%A0%80/events", "task_id: no task has this id")]
    [InlineData("/cdc/events?after=%00", "after: expected a whole number")]
    [InlineData("/cdc/events?limit=99999999999999999999", "limit: expected a whole number")]
    public async Task Bad_text_in_audit_paths_and_queries_is_a_400_naming_the_field(string path, string expected)
    {
        var answer = (await server.SendAsync("GET", path)).AssertEnvelope(400);
        Assert.Contains(expected, answer.Message);
    }

    [Theory]
    [InlineData("""{"request_type":"pause","request_data":{"task_id":"a b"}}""", "task_id: no task has this id")]
    [InlineData("""{"request_type":"get","request_data":{"task_id":"../../etc"}}""", "task_id: no task has this id")]
    [InlineData("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1","connect_timeout":1e400},"collection_infos":[{"name":"*"}]}}""",
        "milvus_connect_param.connect_timeout: the number 1e400 is out of range")]
    [InlineData("""{"request_type":"events","request_data":{"after":123456789012345678901234567890}}""", "after: the number")]
    [InlineData("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"db_collections":{"1db":[{"name":"*"}]}}}""",
        "db_collections: the first character of a database name must be an underscore or letter: invalid database name[database=1db]")]
    [InlineData("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"db_collections":{"my-db":[{"name":"*"}]}}}""",
        "db_collections: database name can only contain numbers, letters and underscores: invalid database name[database=my-db]")]
    [InlineData("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"db_collections":{"d\u0001b":[{"name":"*"}]}}}""",
        "db_collections: database name can only contain numbers, letters and underscores")]
    [InlineData("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"9books"}]}}""",
        "collection_infos[0].name: Invalid collection name: 9books. the first character of a collection name must be an underscore or letter")]
    [InlineData("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"bo\u0007ks"}]}}""",
        "collection_infos[0].name: Invalid collection name: bo\aks. collection name can only contain numbers, letters and underscores")]
    [InlineData("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"db_collections":{"db1":[{"name":"a$b"}]}}}""",
        "name: Invalid collection name: a$b. collection name can only contain numbers, letters and underscores")]
    public async Task Names_ids_and_numbers_that_break_a_rule_are_a_400_naming_the_field(string json, string expected)
    {
        var before = await server.HighWaterMarkAsync();
        var answer = (await server.PostAsync(json)).AssertEnvelope(400);
        Assert.Contains(expected, answer.Message);
        Assert.Equal(before, await server.HighWaterMarkAsync());
    }

    [Fact]
    public async Task A_path_that_does_not_exist_is_a_404_envelope()
    {
        (await server.SendAsync("GET", "/admin")).AssertEnvelope(404);
        (await server.SendAsync("POST", "/cdc/nothing", Encoding.UTF8.GetBytes("{}"))).AssertEnvelope(404);
    }

    /// <summary><paramref name="json"/> (an object) padded with a "pad" member to exactly <paramref name="size"/> bytes.</summary>
    internal static byte[] Padded(string json, int size)
    {
        var head = json[..^1] + ",\"pad\":\"";
        var padding = size - Encoding.UTF8.GetByteCount(head) - 2;
        return Encoding.UTF8.GetBytes(head + new string('x', padding) + "\"}");
    }
}
