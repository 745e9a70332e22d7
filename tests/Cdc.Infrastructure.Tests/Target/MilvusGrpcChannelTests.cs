using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Target;


namespace Cdc.Infrastructure.Tests.Target;

public sealed class MilvusGrpcChannelTests
{
    [Theory]
    [InlineData("http://milvus:19530", "http://milvus:19530/")]
    [InlineData("http://milvus", "http://milvus:19530/")]
    [InlineData("https://milvus:443", "https://milvus/")]
    [InlineData("https://milvus.example.com:19531/ignored/path", "https://milvus.example.com:19531/")]
    public void Address_keeps_an_explicit_port_and_defaults_to_19530(string uri, string expected)
    {
        Assert.Equal(expected, MilvusGrpcChannel.Address(new MilvusConnection(uri)).ToString());
    }

    [Theory]
    [InlineData("milvus:19530")]
    [InlineData("tcp://milvus:19530")]
    public void Non_http_uris_are_rejected(string uri)
    {
        Assert.Throws<ArgumentException>(() => MilvusGrpcChannel.Address(new MilvusConnection(uri)));
    }

    [Fact]
    public void Tls_only_for_https_and_connect_timeout_defaults_to_5_seconds()
    {
        Assert.True(new MilvusConnection("https://m:1").UsesTls);
        Assert.False(new MilvusConnection("http://m:1").UsesTls);
        Assert.Null(MilvusGrpcChannel.CreateHandler(new MilvusConnection("http://m:1")).SslOptions.TargetHost);
        Assert.Equal(TimeSpan.FromSeconds(5), MilvusGrpcChannel.CreateHandler(new MilvusConnection("http://m:1")).ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), new MilvusConnection("http://m:1", "", TimeSpan.FromSeconds(7), MilvusDialConfig.None).EffectiveTimeout);
    }
}
