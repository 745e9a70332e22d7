using System.Security.Cryptography;
using System.Text;
using Cdc.Infrastructure.Configuration;
using Microsoft.AspNetCore.Authorization;

namespace Cdc.Api.Http;

/// <summary>
/// The optional API authentication (<c>apiAuth.tokens</c>): with tokens configured, every request must carry
/// <c>Authorization: Bearer &lt;token&gt;</c> with one of them, whatever its path (those of endpoints added later
/// and paths that do not exist included), except the endpoints marked <see cref="IAllowAnonymous"/> (health,
/// readiness and, unless <c>apiAuth.protectMetrics</c>, the metrics). Others get 401 in the envelope with a
/// <c>WWW-Authenticate: Bearer</c> header. Tokens are compared in constant time (their SHA-256 digests, so neither
/// the length nor the first differing byte shows in the timing) and never logged. Runs after routing, so that the
/// endpoint is known.
/// </summary>
public sealed class ApiTokenAuthentication(RequestDelegate next, CdcConfig config)
{
    private const string Scheme = "Bearer";

    private readonly byte[][] _digests = config.ApiAuth.Tokens.Select(t => SHA256.HashData(Encoding.UTF8.GetBytes(t))).ToArray();

    public Task InvokeAsync(HttpContext http)
    {
        if (_digests.Length == 0 || http.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            return next(http);
        var presented = Presented(http.Request);
        if (presented is not null && Matches(presented)) return next(http);

        http.Response.Headers.WWWAuthenticate = presented is null ? Scheme : $"{Scheme} error=\"invalid_token\"";
        return CdcResponse.Error(StatusCodes.Status401Unauthorized, presented is null
                ? "authentication required: send the header 'Authorization: Bearer <token>' with a token of the server's apiAuth.tokens"
                : "the bearer token is not one of the server's apiAuth.tokens")
            .ExecuteAsync(http);
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header (RFC 6750 §2.1), or null.</summary>
    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value) return null;
        if (value.Length <= Scheme.Length || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || value[Scheme.Length] != ' ')
            return null;
        var token = value[(Scheme.Length + 1)..].Trim(' ');
        return token.Length > 0 ? token : null;
    }

    private bool Matches(string presented)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = false;
        // Every configured token is compared, so the time taken does not tell which one matched.
        foreach (var expected in _digests) match |= CryptographicOperations.FixedTimeEquals(digest, expected);
        return match;
    }
}
