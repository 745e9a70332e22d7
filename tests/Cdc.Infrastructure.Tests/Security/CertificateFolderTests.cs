using System.Diagnostics;
using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Target;
using Cdc.Infrastructure.Security;
using Cdc.Testing.FakeMilvus;

namespace Cdc.Infrastructure.Tests.Security;

/// <summary>
/// The certificates folder: files inside it are read, anything that leads out of it (an absolute path elsewhere,
/// '..', a symbolic link) is refused without being opened, and messages name the path as given, never the folders.
/// </summary>
public sealed class CertificateFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cdc-certfolder-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("cdc-outside-").FullName;
    private readonly CertificateFolder _folder;

    public CertificateFolderTests()
    {
        _folder = new CertificateFolder(Path.Combine(_root, "certs"));
        Directory.CreateDirectory(Path.Combine(_root, "certs", "sub"));
        File.WriteAllText(Path.Combine(_root, "certs", "ca.pem"), "CA");
        File.WriteAllText(Path.Combine(_root, "certs", "sub", "client.pem"), "CLIENT");
        File.WriteAllText(Path.Combine(_outside, "secret.key"), "SECRET");
        File.WriteAllText(Path.Combine(_root, "beside.pem"), "BESIDE");
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private string Certs(params string[] parts) => Path.Combine([_root, "certs", .. parts]);

    [Fact]
    public void Files_inside_are_read_by_relative_or_absolute_path_and_through_links_that_stay_inside()
    {
        File.CreateSymbolicLink(Certs("link.pem"), "sub/client.pem");
        Directory.CreateSymbolicLink(Certs("alias"), Certs("sub"));

        Assert.Equal("CA", _folder.ReadText("f", "ca.pem"));
        Assert.Equal("CA", _folder.ReadText("f", "./ca.pem"));
        Assert.Equal("CLIENT", _folder.ReadText("f", "sub/client.pem"));
        Assert.Equal("CA", _folder.ReadText("f", Certs("ca.pem")));
        Assert.Equal("CLIENT", _folder.ReadText("f", "link.pem"));
        Assert.Equal("CLIENT", _folder.ReadText("f", "alias/client.pem"));
        Assert.Null(_folder.Refusal("not-yet-there.pem"));
    }

    [Fact]
    public void A_certificates_folder_that_is_itself_a_link_works_by_either_name()
    {
        Directory.CreateSymbolicLink(Path.Combine(_root, "current"), Certs());
        var linked = new CertificateFolder(Path.Combine(_root, "current"));

        Assert.Equal("CA", linked.ReadText("f", "ca.pem"));
        Assert.Equal("CA", linked.ReadText("f", Certs("ca.pem")));
        Assert.Equal("CA", linked.ReadText("f", Path.Combine(_root, "current", "ca.pem")));
        Assert.NotNull(linked.Refusal(Path.Combine(_root, "beside.pem")));
    }

    [Theory]
    [InlineData("/etc/passwd", "the file is outside the certificates folder")]
    [InlineData("/proc/self/environ", "the file is outside the certificates folder")]
    [InlineData("../beside.pem", "must not contain '..'")]
    [InlineData("sub/../../beside.pem", "must not contain '..'")]
    [InlineData("sub/../ca.pem", "must not contain '..'")]
    [InlineData("", "the path is empty")]
    [InlineData("ca\0.pem", "characters no file name may hold")]
    [InlineData(".", "names the certificates folder itself")]
    [InlineData("sub", "names a folder, not a file")]
    public void Paths_that_leave_the_folder_are_refused_naming_the_path_as_given(string path, string problem)
    {
        var refusal = _folder.Refusal(path);
        Assert.NotNull(refusal);
        Assert.Contains(problem, refusal);

        var error = Assert.Throws<CertificateFileException>(() => _folder.ReadText("dial_config.ca_pem_path", path));
        Assert.Equal($"dial_config.ca_pem_path '{path}': {refusal}", error.Message);
        Assert.DoesNotContain(_root, error.Message);
    }

    [Fact]
    public void Links_out_of_the_folder_are_refused_whether_file_folder_or_chain()
    {
        File.CreateSymbolicLink(Certs("out.pem"), Path.Combine(_outside, "secret.key"));
        Directory.CreateSymbolicLink(Certs("escape"), _outside);
        File.CreateSymbolicLink(Certs("hop1.pem"), "hop2.pem");
        File.CreateSymbolicLink(Certs("hop2.pem"), "../beside.pem");
        File.CreateSymbolicLink(Certs("loop.pem"), "loop.pem");

        foreach (var path in new[] { "out.pem", "escape/secret.key", "hop1.pem" })
        {
            var error = Assert.Throws<CertificateFileException>(() => _folder.ReadText("f", path));
            Assert.Contains("leads outside the certificates folder through a symbolic link", error.Message);
            Assert.DoesNotContain(_outside, error.Message);
        }

        Assert.Contains("symbolic links on the way", _folder.Refusal("loop.pem"));
        Assert.Contains("the file is outside", _folder.Refusal(Path.Combine(_outside, "secret.key")));
    }

    [Fact]
    public async Task A_refused_file_is_never_opened()
    {
        // Opening a FIFO for reading waits for a writer: had the folder opened the file behind the link, the read
        // below would never return (the wait guards the test run, it measures nothing).
        var fifo = Path.Combine(_outside, "pipe");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) await mkfifo.WaitForExitAsync();
        File.CreateSymbolicLink(Certs("pipe.pem"), fifo);

        var read = Task.Run(() => _folder.ReadText("f", "pipe.pem"));
        var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.Same(read, finished);
        var error = await Assert.ThrowsAsync<CertificateFileException>(() => read);
        Assert.Contains("through a symbolic link", error.Message);
    }

    [Fact]
    public void Read_errors_name_the_file_as_given_not_where_it_is()
    {
        var missing = Assert.Throws<CertificateFileException>(() => _folder.ReadText("dial_config.server_pem_path", "sub/missing.pem"));
        Assert.Equal("dial_config.server_pem_path 'sub/missing.pem': no such file in the certificates folder", missing.Message);

        var none = Assert.Throws<CertificateFileException>(() => CertificateFolder.None.ReadText("f", "ca.pem"));
        Assert.Contains("no certificates folder is configured", none.Message);
    }

    [Fact]
    public async Task A_target_client_reads_dial_config_files_only_from_its_folder()
    {
        using var ca = new TestCertificateAuthority();
        File.Copy(ca.CertificatePemPath, Certs("trusted.pem"));
        var outside = new MilvusConnection("https://127.0.0.1:1", "", TimeSpan.FromSeconds(1), new MilvusDialConfig(CaPemPath: ca.CertificatePemPath));
        var inside = outside with { DialConfig = new MilvusDialConfig(CaPemPath: "trusted.pem") };

        var error = Assert.Throws<CertificateFileException>(() => new MilvusTargetClient(outside, _folder));
        Assert.Equal("dial_config.ca_pem_path", error.Field);
        Assert.Contains($"'{ca.CertificatePemPath}': the file is outside the certificates folder", error.Message);
        Assert.Throws<CertificateFileException>(() => new MilvusTargetClient(inside));
        await using var client = new MilvusTargetClient(inside, _folder);

        var bad = outside with { DialConfig = new MilvusDialConfig(CaPemPath: "ca.pem") };
        var notPem = Assert.Throws<CertificateFileException>(() => new MilvusTargetClient(bad, _folder));
        Assert.Equal("dial_config.ca_pem_path 'ca.pem': the file holds no PEM certificate", notPem.Message);
    }
}
