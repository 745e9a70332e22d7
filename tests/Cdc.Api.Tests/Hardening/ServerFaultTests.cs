using System.Text.RegularExpressions;

namespace Cdc.Api.Tests.Hardening;

/// <summary>A server of its own: its database is taken away under it.</summary>
public sealed class FaultServer : ServerProcessFixture;

/// <summary>
/// A fault of the server (here: its database is gone) is not the caller's input: it is a 500 in the envelope with an
/// incident id that the server log names beside the exception, on /cdc and on the audit endpoints alike, and the
/// process stays up.
/// </summary>
public sealed partial class ServerFaultTests(FaultServer server) : IClassFixture<FaultServer>
{
    [Fact]
    public async Task A_fault_is_a_500_envelope_whose_incident_the_log_names_and_the_server_stays_up()
    {
        Assert.Equal(200, (await server.SendAsync("GET", "/cdc/events?after=0")).Status);
        await server.Database.DisposeAsync(); // drops the database, closing the server's connections

        foreach (var answer in new[]
                 {
                     await server.SendAsync("GET", "/cdc/events?after=0"),
                     await server.SendAsync("GET", "/cdc/tasks/abc/events"),
                     await server.PostAsync("""{"request_type":"list"}"""),
                 })
        {
            answer.AssertEnvelope(500);
            var incident = Incident().Match(answer.Message);
            Assert.True(incident.Success, answer.Message);
            Assert.Contains($"(incident {incident.Groups[1].Value})", server.Server.Output);
        }

        Assert.False(server.Server.HasExited);
        Assert.Equal(200, (await server.SendAsync("GET", "/healthz")).Status);
    }

    [GeneratedRegex("incident ([0-9a-f]{12}) in the server log")]
    private static partial Regex Incident();
}
