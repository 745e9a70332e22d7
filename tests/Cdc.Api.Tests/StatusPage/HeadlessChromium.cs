using Microsoft.Playwright;

namespace Cdc.Api.Tests.StatusPage;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>, installed by scripts/test.sh), headless, driven by Playwright's node
/// driver, which ships in the Microsoft.Playwright package; no browser is downloaded. Each page gets a fresh browser
/// context (an empty profile); what the pages write to the console and the scripts' errors are kept for the failure
/// messages.
/// </summary>
public sealed class HeadlessChromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"{ExecutablePath} is missing: scripts/test.sh installs Debian's chromium package");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root in a sandbox of its own, no GPU, and no calls home (this machine's network is closed).
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-quic", "--no-first-run"],
        });
    }

    /// <summary>Opens <paramref name="address"/> in a new context; <paramref name="log"/> collects its console and errors.</summary>
    public async Task<IPage> OpenAsync(Uri address, List<string> log)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US", TimezoneId = "UTC" });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        page.Console += (_, message) => { lock (log) log.Add($"console {message.Type}: {message.Text}"); };
        page.PageError += (_, error) => { lock (log) log.Add($"page error: {error}"); };
        await page.GotoAsync(address.ToString());
        return page;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
