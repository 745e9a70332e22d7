using Cdc.Application.Replication.Source;

namespace Cdc.Application.Tests.Source;

public sealed class SourcePositionTests
{
    [Fact]
    public void A_position_round_trips_through_its_checkpoint_form_and_describes_itself()
    {
        var position = new SourcePosition("by-dev-rootcoord-dml_0", new byte[] { 0x2c, 0x03, 0, 0, 0, 0, 0, 0 });

        Assert.Equal("LAMAAAAAAAA=", position.ToCheckpoint());
        Assert.Equal(position.MessageId.ToArray(), SourcePosition.FromCheckpoint("by-dev-rootcoord-dml_0", "LAMAAAAAAAA=").MessageId.ToArray());
        Assert.Equal("position LAMAAAAAAAA= (0x2C03000000000000)", position.Describe());
        Assert.Throws<FormatException>(() => SourcePosition.FromCheckpoint("c", "not base64!"));
    }
}
