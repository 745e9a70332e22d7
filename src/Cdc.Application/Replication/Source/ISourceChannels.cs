namespace Cdc.Application.Replication.Source;

/// <summary>Opens readers on the source Milvus' message queue (one per pchannel).</summary>
public interface ISourceChannels
{
    /// <summary>
    /// Opens a reader on <paramref name="channel"/>. With <see cref="SourceChannelStart.Latest"/> the start is fixed
    /// when this returns: a message written afterwards is read, one written before is not.
    /// </summary>
    Task<ISourceChannelReader> OpenReaderAsync(
        string channel, SourceChannelStart start, CancellationToken cancellationToken);
}
