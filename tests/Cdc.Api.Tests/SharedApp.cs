using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>One server and database shared by the tests of a class that do not depend on an empty store.</summary>
public sealed class SharedApp : IAsyncLifetime
{
    public CdcApp App { get; private set; } = null!;

    public async Task InitializeAsync() => App = await CdcApp.StartAsync();

    public async Task DisposeAsync() => await App.DisposeAsync();
}
