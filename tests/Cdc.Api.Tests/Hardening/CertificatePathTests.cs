using Cdc.Testing;

namespace Cdc.Api.Tests.Hardening;

/// <summary>
/// A server whose certificates folder (certificatesDir) holds ca.pem, sub/client.pem and client.key, a link to a
/// file inside (inside.pem) and links out of the folder (out.pem to /etc/hostname, escape/ to /etc).
/// </summary>
public sealed class CertificateFolderServer : ServerProcessFixture
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("cdc-certs-").FullName;

    protected override void Configure(IDictionary<string, string> settings)
    {
        File.WriteAllText(Path.Combine(Folder, "ca.pem"), "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
        Directory.CreateDirectory(Path.Combine(Folder, "sub"));
        File.WriteAllText(Path.Combine(Folder, "sub", "client.pem"), "");
        File.WriteAllText(Path.Combine(Folder, "client.key"), "");
        File.CreateSymbolicLink(Path.Combine(Folder, "inside.pem"), "ca.pem");
        File.CreateSymbolicLink(Path.Combine(Folder, "out.pem"), "/etc/hostname");
        Directory.CreateSymbolicLink(Path.Combine(Folder, "escape"), "/etc");
        settings["certificatesDir"] = Folder;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Folder, recursive: true);
    }
}

/// <summary>
/// dial_config's files must lie in the server's certificates folder: a create naming any other file is refused with
/// a 400 that names the field and the path as given (never the server's folders), and stores nothing.
/// </summary>
public sealed class CertificatePathTests(CertificateFolderServer server) : IClassFixture<CertificateFolderServer>
{
    public static readonly TheoryData<string, string, string> OutsidePaths = new()
    {
        { "server_pem_path", "/etc/shadow", "the file is outside the certificates folder" },
        { "ca_pem_path", "/proc/self/environ", "the file is outside the certificates folder" },
        { "client_pem_path", "../.data/secret.key", "the path must not contain '..'" },
        { "client_key_path", "sub/../../x.key", "the path must not contain '..'" },
        { "ca_pem_path", "out.pem", "the path leads outside the certificates folder through a symbolic link" },
        { "server_pem_path", "escape/hostname", "the path leads outside the certificates folder through a symbolic link" },
        { "ca_pem_path", RepositoryRoot.File_(".data/secret.key"), "the file is outside the certificates folder" },
        { "server_pem_path", ".", "the path names the certificates folder itself" },
        { "ca_pem_path", "sub", "the path names a folder, not a file" },
    };

    [Theory]
    [MemberData(nameof(OutsidePaths))]
    public async Task A_dial_config_path_outside_the_certificates_folder_is_a_400_naming_the_field_and_the_path_as_given(
        string field, string path, string problem)
    {
        var before = await server.HighWaterMarkAsync();
        var mutual = field is "client_pem_path" or "client_key_path"
            ? """ "ca_pem_path":"ca.pem","client_pem_path":"sub/client.pem","client_key_path":"client.key", """
            : "";
        var dial = $$$"""{ {{{mutual}}} "{{{field}}}":{{{System.Text.Json.JsonSerializer.Serialize(path)}}} }""";

        var answer = (await server.PostAsync($$$"""
            {"request_type":"create","request_data":{"milvus_connect_param":{"uri":"https://milvus:19530","dial_config":{{{dial}}}},"collection_infos":[{"name":"*"}]}}
            """)).AssertEnvelope(400);

        Assert.Contains($"milvus_connect_param.dial_config.{field}: '{path}': {problem}", answer.Message);
        Assert.DoesNotContain(server.Folder, answer.Message);
        if (!Path.IsPathRooted(path)) Assert.DoesNotContain(RepositoryRoot.Path, answer.Message);
        Assert.Equal(before, await server.HighWaterMarkAsync());
    }

    [Fact]
    public async Task Files_inside_the_folder_are_accepted_and_kept_as_given()
    {
        var inFolder = Path.Combine(server.Folder, "ca.pem");
        var answer = await server.PostAsync($$$"""
            {"request_type":"create","request_data":{"milvus_connect_param":{"uri":"https://milvus:19530","dial_config":{
              "server_name":"milvus","ca_pem_path":"inside.pem","client_pem_path":"sub/client.pem","client_key_path":"./client.key","server_pem_path":"{{{inFolder}}}"}},
              "collection_infos":[{"name":"*"}]}}
            """);
        Assert.Equal(200, answer.Status);

        var id = answer.Json["data"]!["task_id"]!.GetValue<string>();
        var task = (await server.PostAsync($$$"""{"request_type":"get","request_data":{"task_id":"{{{id}}}"}}""")).Json["data"]!["Task"]!;
        var dial = task["milvus_connect_param"]!["dial_config"]!;
        Assert.Equal(("inside.pem", "sub/client.pem", "./client.key", inFolder),
            (dial["ca_pem_path"]!.GetValue<string>(), dial["client_pem_path"]!.GetValue<string>(), dial["client_key_path"]!.GetValue<string>(), dial["server_pem_path"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_file_that_is_not_there_yet_is_accepted_inside_the_folder()
    {
        // The task may run on another server of the cluster, with its own copy of the folder: only where the path
        // leads is checked at create; reading happens where the task runs.
        var answer = await server.PostAsync("""
            {"request_type":"create","request_data":{"milvus_connect_param":{"uri":"https://milvus:19530","dial_config":{"server_pem_path":"later/server.pem"}},
              "collection_infos":[{"name":"*"}]}}
            """);
        Assert.Equal(200, answer.Status);
    }
}
