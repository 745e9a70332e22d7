using Cdc.Api.Composition;
using Cdc.Api.Http;
using Cdc.Infrastructure.Configuration;
using JasperFx;
using Wolverine;

Cdc.Infrastructure.Composition.NativeHeapArenas.Limit();
var builder = WebApplication.CreateBuilder(args);

// The config file: --config <path> (default ./configs/cdc.yaml). Keys under "cdc:" in the host configuration
// override it as environment variables (CDC_...) do; tests use that to set their own database and limits.
CdcConfig config;
try
{
    config = CdcConfigLoader.Load(
        builder.Configuration["config"] ?? Path.Combine("configs", "cdc.yaml"),
        builder.Configuration.GetSection("cdc").AsEnumerable(makePathsRelative: true));
}
catch (ConfigurationError ex)
{
    Console.Error.WriteLine(ex.Message);
    Environment.ExitCode = 2;
    return;
}

var (host, port) = config.ListenEndpoint;
builder.WebHost.ConfigureKestrel(k =>
{
    k.Limits.MaxRequestBodySize = config.MaxRequestBytes + 1;
    k.Listen(host is "0.0.0.0" or "" ? System.Net.IPAddress.Any : System.Net.IPAddress.TryParse(host, out var ip) ? ip : System.Net.IPAddress.Loopback, port, listen =>
    {
        // apiTls: HTTPS only on the listener (the loader checked that the files load).
        if (config.ApiTls is { } tls)
            listen.UseHttps(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(tls.CertPath, tls.KeyPath));
    });
});
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
// Marten's per-statement and Wolverine's per-message lines are debug noise for an operator.
builder.Logging.AddFilter("Marten", LogLevel.Warning).AddFilter("Wolverine", LogLevel.Warning).AddFilter("JasperFx", LogLevel.Warning);
builder.Services.AddCdcInfrastructure(config).AddCdcApplication().AddCdcMetrics();
builder.Host.UseWolverine(ReplicationHosting.Configure);

var app = builder.Build();
// `dotnet run --project src/Cdc.Api -- codegen write` regenerates the handler code Wolverine and Marten load at run time
// (src/Cdc.Api/Internal/Generated, compiled into this assembly); `codegen test` checks it against the code in force.
if (args.Length > 0 && args[0] == "codegen")
{
    Environment.ExitCode = await app.RunJasperFxCommands(args);
    return;
}
ErrorEnvelopes.Use(app);
app.UseRouting();
app.UseMiddleware<ApiTokenAuthentication>();
CdcEndpoint.Map(app);
AuditEndpoints.Map(app);
app.MapGet("/healthz", () => Results.Text("ok\n")).AllowAnonymous();
MetricsEndpoint.Map(app);
HealthEndpoints.Map(app);
StatusPage.Map(app); ApiDescription.Map(app);
try
{
    await app.RunAsync();
}
catch (StartupCheckFailed ex)
{
    // A start-up check failed (the event store cannot be opened, say): one clear line, no stack trace.
    Console.Error.WriteLine($"cannot start: {ex.Message}");
    Environment.ExitCode = 1;
}

public partial class Program;
