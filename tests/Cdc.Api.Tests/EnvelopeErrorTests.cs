using System.Net;
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
        using var response = await shared.App.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/cdc"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        var body = await CdcApp.ReadAsync(response);
        Assert.Equal(405, body["code"]!.GetValue<int>());
        Assert.Equal("only support the POST method", body["message"]!.GetValue<string>());
        Assert.Equal("POST", response.Content.Headers.Allow.Single());
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
        var (status, answer) = await shared.App.PostRawAsync(body);
        Assert.Equal(400, status);
        Assert.Equal(400, answer["code"]!.GetValue<int>());
        Assert.Contains(expected, answer["message"]!.GetValue<string>());
        Assert.Equal(before, await CreateErrorTests.HighWaterMarkAsync(shared.App));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task A_body_that_is_not_declared_JSON_gets_415(string contentType)
    {
        var (status, body) = await shared.App.PostRawAsync("""{"request_type":"list"}""", contentType);
        Assert.Equal(415, status);
        Assert.Contains($"must be application/json, got '{contentType}", body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Json_with_a_charset_is_accepted()
    {
        var (status, _) = await shared.App.PostRawAsync("""{"request_type":"list"}""", "application/json; charset=utf-8");
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_413_and_stores_nothing()
    {
        var before = await CreateErrorTests.HighWaterMarkAsync(shared.App);
        var padding = new string('x', 1 << 20);
        var (status, body) = await shared.App.PostRawAsync(
            """{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://h:1"},"collection_infos":[{"name":"*"}],"pad":""" + "\"" + padding + "\"}}");
        Assert.Equal(413, status);
        Assert.Contains("larger than 1048576 bytes", body["message"]!.GetValue<string>());
        Assert.Equal(before, await CreateErrorTests.HighWaterMarkAsync(shared.App));
    }

    [Fact]
    public async Task Deeply_nested_json_is_refused_without_harm()
    {
        var deep = new string('[', 5000) + new string(']', 5000);
        var (status, body) = await shared.App.PostRawAsync("""{"request_type":"list","request_data":{"x":""" + deep + "}}");
        Assert.Equal(400, status);
        Assert.Contains("fail to unmarshal the request", body["message"]!.GetValue<string>());
        var (after, _) = await shared.App.PostAsync("list");
        Assert.Equal(200, after);
    }
}
