using Cdc.Application.Secrets;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// Turns a task's stored target into the connection the wire layer dials: secrets decrypted, the token taken as
/// given or built as <c>username:password</c> from the deprecated form (as the reference does).
/// </summary>
public static class TargetConnections
{
    /// <param name="mode">The task's apply mode, which says whether the client marks its calls as replicated.</param>
    public static MilvusConnection From(MilvusTarget target, ISecretProtector secrets, ApplyMode mode = ApplyMode.Replicate)
    {
        var token = target.Token is { } t
            ? secrets.Unprotect(t)
            : target.Username is { } user && target.Password is { } password
                ? $"{user}:{secrets.Unprotect(password)}"
                : "";
        var dial = target.Dial is { } d
            ? new MilvusDialConfig(d.ServerName ?? "", d.ServerPemPath ?? "", d.CaPemPath ?? "", d.ClientPemPath ?? "", d.ClientKeyPath ?? "")
            : MilvusDialConfig.None;
        return new MilvusConnection(target.Uri, token, TimeSpan.FromSeconds(target.ConnectTimeoutSeconds), dial) { ApplyMode = mode };
    }
}
