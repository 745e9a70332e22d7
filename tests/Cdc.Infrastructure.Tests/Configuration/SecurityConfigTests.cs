using Cdc.Infrastructure.Configuration;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;

namespace Cdc.Infrastructure.Tests.Configuration;

/// <summary>The security keys of the configuration: certificatesDir, apiAuth and apiTls.</summary>
public sealed class SecurityConfigTests
{
    private static readonly string ShippedConfig = RepositoryRoot.File_("configs/cdc.yaml");

    private static CdcConfig Load(params (string Key, string Value)[] overrides) =>
        CdcConfigLoader.Load(ShippedConfig, overrides.Select(o => new KeyValuePair<string, string?>(o.Key, o.Value)));

    [Fact]
    public void Everything_is_off_by_default_and_certificates_live_in_certs_of_the_working_directory()
    {
        var config = Load();
        Assert.False(config.ApiAuth.Enabled);
        Assert.False(config.ApiAuth.ProtectMetrics);
        Assert.Null(config.ApiTls);
        Assert.Equal(Path.GetFullPath("certs"), config.CertificatesDir);
    }

    [Fact]
    public void Tokens_come_as_a_list_or_as_one_comma_separated_value_and_are_never_printed()
    {
        const string first = "0123456789abcdef-first", second = "0123456789abcdef-second";
        var listed = Load(("apiAuth:tokens:0", first), ("apiAuth:tokens:1", second), ("apiAuth:protectMetrics", "true"));
        var joined = Load(("apiAuth:tokens", $"{first},{second}"));

        Assert.Equal([first, second], listed.ApiAuth.Tokens);
        Assert.True(listed.ApiAuth.ProtectMetrics);
        Assert.Equal([first, second], joined.ApiAuth.Tokens);
        Assert.DoesNotContain(first, listed.ToString());
        Assert.DoesNotContain(second, listed.ToString());
    }

    [Fact]
    public void Environment_variables_set_the_tokens_like_any_key()
    {
        Environment.SetEnvironmentVariable("CDC_apiAuth__tokens", "env-token-0123456789abcdef");
        try
        {
            Assert.Equal(["env-token-0123456789abcdef"], CdcConfigLoader.Load(ShippedConfig).ApiAuth.Tokens);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CDC_apiAuth__tokens", null);
        }
    }

    [Theory]
    [InlineData("apiAuth:tokens:0", "short-secret", "apiAuth.tokens.0: must be at least 16 characters")]
    [InlineData("apiAuth:tokens:0", "a token with spaces in it", "apiAuth.tokens.0: may only hold visible ASCII characters")]
    [InlineData("apiAuth:protectMetrics", "true", "apiAuth.protectMetrics: is true, so apiAuth.tokens must name at least one token")]
    [InlineData("apiAuth:protectMetrics", "sometimes", "apiAuth.protectMetrics: expected true or false")]
    [InlineData("apiTls:certPath", "/nonexistent/server.pem", "apiTls.keyPath: apiTls needs both certPath and keyPath")]
    [InlineData("apiTls:keyPath", "/nonexistent/server.key", "apiTls.certPath: apiTls needs both certPath and keyPath")]
    public void A_bad_security_value_stops_start_up_naming_the_key_without_showing_a_token(string key, string value, string expected)
    {
        var error = Assert.Throws<ConfigurationError>(() => Load((key, value)));
        Assert.Contains(expected, error.Message);
        if (key.StartsWith("apiAuth:tokens", StringComparison.Ordinal)) Assert.DoesNotContain(value, error.Message);
    }

    [Fact]
    public void Tls_files_that_do_not_load_stop_start_up_naming_the_key()
    {
        using var ca = new TestCertificateAuthority();
        var server = ca.IssueServer("localhost");

        var loaded = Load(("apiTls:certPath", server.CertificatePemPath), ("apiTls:keyPath", server.KeyPemPath));
        Assert.Equal(new ApiTlsConfig(server.CertificatePemPath, server.KeyPemPath), loaded.ApiTls);

        var missing = Assert.Throws<ConfigurationError>(() => Load(("apiTls:certPath", server.CertificatePemPath), ("apiTls:keyPath", server.KeyPemPath + ".missing")));
        Assert.Contains("apiTls.certPath: cannot load the certificate", missing.Message);
        var notAKey = Assert.Throws<ConfigurationError>(() => Load(("apiTls:certPath", server.CertificatePemPath), ("apiTls:keyPath", ca.CertificatePemPath)));
        Assert.Contains("apiTls.certPath: cannot load the certificate", notAKey.Message);
    }

    [Fact]
    public void A_certificatesDir_that_is_a_file_stops_start_up()
    {
        var file = Path.GetTempFileName();
        try
        {
            var error = Assert.Throws<ConfigurationError>(() => Load(("certificatesDir", file)));
            Assert.Contains("certificatesDir: ", error.Message);
            Assert.Contains("is a file, not a folder", error.Message);
            Assert.Equal(Path.GetFullPath("/srv/cdc/certs"), Load(("certificatesDir", "/srv/cdc/certs")).CertificatesDir);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
