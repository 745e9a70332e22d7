namespace Cdc.Domain.Tasks;

/// <summary>
/// A secret (token, password) as it is kept at rest: the ciphertext produced by the application's
/// secret protector. The domain never sees the plain text, and it never renders the ciphertext either.
/// </summary>
public sealed record ProtectedSecret(string Ciphertext)
{
    /// <summary>What audit output shows in place of a secret: that one was set, never its value.</summary>
    public const string Mask = "******";

    public override string ToString() => Mask;
}
