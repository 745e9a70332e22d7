using Cdc.Application.Replication.Target;
using Cdc.Domain.Tasks;
using FluentValidation;

namespace Cdc.Application.Tasks.CreatingTask;

/// <summary>
/// The files of <c>milvus_connect_param.dial_config</c> must lie inside the server's certificates folder: a create
/// naming any other file (an absolute path elsewhere, <c>..</c>, a symbolic link out of the folder) is refused
/// before anything is stored, naming the field and the path as given.
/// </summary>
public sealed class CreateTaskCertificatePathsValidator : AbstractValidator<CreateTask>
{
    public CreateTaskCertificatePathsValidator(ICertificateFiles certificates)
    {
        ClassLevelCascadeMode = CascadeMode.Stop;
        foreach (var (field, path) in Paths)
        {
            RuleFor(r => path(r.MilvusConnectParam!.DialConfig!))
                .Must(p => string.IsNullOrEmpty(p) || certificates.Refusal(p) is null)
                .When(r => r.MilvusConnectParam?.DialConfig is not null)
                .OverridePropertyName($"milvus_connect_param.dial_config.{field}")
                .WithMessage((r, p) => $"'{p}': {certificates.Refusal(p!)}");
        }
    }

    private static readonly (string Field, Func<DialConfig, string?> Path)[] Paths =
    [
        ("server_pem_path", d => d.ServerPemPath),
        ("ca_pem_path", d => d.CaPemPath),
        ("client_pem_path", d => d.ClientPemPath),
        ("client_key_path", d => d.ClientKeyPath),
    ];
}
