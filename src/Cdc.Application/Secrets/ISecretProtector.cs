using Cdc.Domain.Tasks;

namespace Cdc.Application.Secrets;

/// <summary>Encrypts secrets before they are stored in events and decrypts them for the replication worker.</summary>
public interface ISecretProtector
{
    ProtectedSecret Protect(string plaintext);
    string Unprotect(ProtectedSecret secret);
}
