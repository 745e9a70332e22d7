using Alba;
using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>Bad envelopes: none crashes the server, each gets a clear non-200 answer, nothing is stored.</summary>
public sealed class EnvelopeErrorTests(SharedApp shared) : IClassFixture<SharedApp>
{
    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task Only_POST_is_accepted(string method)
    {
        await shared.App.Host.Scenario(s =>
        {
            s.FromHttpRequestMessage(new HttpRequestMessage(new HttpMethod(method), "/cdc"));
            s.StatusCodeShouldBe(405);
            s.JsonPath("$.code").ShouldBe(405);
            s.JsonPath("$.message").ShouldBe("only support the POST method");
            s.Header("Allow").SingleValueShouldEqual("POST");
        });
    }

    [Theory]
    [InlineData("{\"request_type\":", "fail to unmarshal the request")]
    [InlineData("not json", "fail to unmarshal the request")]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("{}", "invalid 'request_type' param, can be set [create, delete, pause, resume, get, list")]
    [InlineData("{\"request_type\":\"explode\"}", "invalid 'request_type' param")]
    [InlineData("{\"request_type\":\"\"}", "invalid 'request_type' param")]
    [InlineData("{\"request_type\":5}", "request_type: expected a string, got a number")]
    [InlineData("{\"request_type\":\"get\",\"request_data\":[]}", "request_data: expected an object, got an array")]
    [InlineData("{\"request_type\":\"get\",\"request_data\":{}}", "task_id: task_id is empty")]
    [InlineData("{\"request_type\":\"get\",\"request_data\":{\"task_id\":42}}", "task_id: expected a string, got a number")]
    [InlineData("{\"request_type\":\"pause\"}", "task_id: task_id is empty")]
    [InlineData("{\"request_type\":\"events\",\"request_data\":{\"limit\":0}}", "limit: must be between 1 and 1000")]
    public async Task Malformed_envelopes_get_a_400_that_says_what_is_wrong(string body, string expected)
    {
        var before = await CreateErrorTests.HighWaterMarkAsync(shared.App);
        await shared.App.Host.Scenario(s =>
        {
            s.PostCdc(body);
            s.ShouldBeRefused(400, expected);
        });
        Assert.Equal(before, await CreateErrorTests.HighWaterMarkAsync(shared.App));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task A_body_that_is_not_declared_JSON_gets_415(string contentType)
    {
        await shared.App.Host.Scenario(s =>
        {
            s.PostCdc("""{"request_type":"list"}""", contentType);
            s.StatusCodeShouldBe(415);
            s.MessageShouldContain($"must be application/json, got '{contentType}");
        });
    }

    [Fact]
    public async Task Json_with_a_charset_is_accepted()
    {
        await shared.App.Host.Scenario(s =>
        {
            s.PostCdc("""{"request_type":"list"}""", "application/json; charset=utf-8");
            s.StatusCodeShouldBeOk();
        });
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_413_and_stores_nothing()
    {
        var before = await CreateErrorTests.HighWaterMarkAsync(shared.App);
        var padding = new string('x', 1 << 20);
        await shared.App.Host.Scenario(s =>
        {
            s.PostCdc("""{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"*"}],"pad":""" + "\"" + padding + "\"}}");
            s.StatusCodeShouldBe(413);
            s.MessageShouldContain("larger than 1048576 bytes");
        });
        Assert.Equal(before, await CreateErrorTests.HighWaterMarkAsync(shared.App));
    }

    [Fact]
    public async Task Deeply_nested_json_is_refused_without_harm()
    {
        var deep = new string('[', 5000) + new string(']', 5000);
        await shared.App.Host.Scenario(s =>
        {
            s.PostCdc("""{"request_type":"list","request_data":{"x":""" + deep + "}}");
            s.StatusCodeShouldBe(400);
            s.MessageShouldContain("fail to unmarshal the request");
        });
        await shared.App.Host.Scenario(s =>
        {
            s.PostEnvelope("list");
            s.StatusCodeShouldBeOk();
        });
    }
}
