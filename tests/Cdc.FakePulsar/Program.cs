using System.Globalization;
using Cdc.Testing.FakeMilvus;
using Cdc.Testing.FakePulsar;

// A fake Pulsar broker on 127.0.0.1 (see tests/Cdc.Testing/FakePulsar), for trying the CDC server by hand:
//   dotnet run --project tests/Cdc.FakePulsar -- --port 6650 [--token <jwt>] [--tls] [--max-message-size <bytes>]
// It keeps topics in memory until stopped (Ctrl-C). Producers write over the wire (e.g. the pulsar-flex script in
// tests/interop/pulsar-flex); with --tls it makes a throw-away CA and prints the file to trust.
var port = 6650;
string? token = null;
var tls = false;
var maxMessageSize = 5 * 1024 * 1024;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length:
            port = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--token" when i + 1 < args.Length:
            token = args[++i];
            break;
        case "--tls":
            tls = true;
            break;
        case "--max-message-size" when i + 1 < args.Length:
            maxMessageSize = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'; usage: --port <n> [--token <jwt>] [--tls] [--max-message-size <bytes>]");
            return 2;
    }
}

using var authority = tls ? new TestCertificateAuthority("fake-pulsar-ca") : null;
await using var broker = FakePulsarBroker.Start(new FakePulsarOptions
{
    Port = port,
    RequiredToken = token,
    ServerCertificate = authority?.IssueServer("localhost").Certificate,
    MaxMessageSize = maxMessageSize,
});
Console.WriteLine($"fake Pulsar broker at {broker.ServiceUrl}{(token is null ? "" : " (token required)")}");
if (authority is not null) Console.WriteLine($"trust its CA with sourceConfig.pulsar.tlsTrustCertsFilePath: {authority.CertificatePemPath}");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

return 0;
