using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>
/// /cdc answers are written into buffers that are kept from one request for the next: under concurrent calls each
/// client must still get its own answer, whole, with a Content-Length that matches it.
/// </summary>
public sealed class ConcurrentAnswersTests
{
    [Fact]
    public async Task Sixteen_clients_getting_and_listing_at_once_each_read_their_own_whole_answer()
    {
        await using var app = await CdcApp.StartAsync(CdcApp.WithoutReplicationEngine());
        var uris = new Dictionary<string, string>();
        for (var i = 0; i < 6; i++)
        {
            var create = CdcApp.SeedCreate();
            var uri = $"http://target-{i}.invalid:19530";
            create["milvus_connect_param"]!["uri"] = uri;
            uris[await app.CreateTaskAsync(create)] = uri;
        }

        var ids = uris.Keys.ToList();
        // One /cdc call: 200, a Content-Length that is the body's, and the body's data.
        async Task<System.Text.Json.Nodes.JsonNode> DataOf(string envelope)
        {
            using var response = await app.Client.PostAsync("/cdc", new StringContent(envelope, System.Text.Encoding.UTF8, "application/json"));
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
            return System.Text.Json.Nodes.JsonNode.Parse(bytes)!["data"]!;
        }

        var answers = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            for (var call = 0; call < 40; call++)
            {
                if ((worker + call) % 4 == 0)
                {
                    var tasks = (await DataOf(CdcApp.Envelope("list")))["tasks"]!.AsArray();
                    Assert.Equal(ids.Order(), tasks.Select(t => t!["task_id"]!.GetValue<string>()).Order());
                }
                else
                {
                    var id = ids[(worker + call) % ids.Count];
                    var task = (await DataOf(CdcApp.Envelope("get", new { task_id = id })))["Task"]!;
                    Assert.Equal(id, task["task_id"]!.GetValue<string>());
                    Assert.Equal(uris[id], task["milvus_connect_param"]!["uri"]!.GetValue<string>());
                }

                Interlocked.Increment(ref answers);
            }
        })));

        Assert.Equal(16 * 40, answers);
    }
}
