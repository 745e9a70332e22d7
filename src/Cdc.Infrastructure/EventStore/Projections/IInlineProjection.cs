using Cdc.Application.EventStore;
using Npgsql;

namespace Cdc.Infrastructure.EventStore.Projections;

/// <summary>
/// A read model updated in the transaction of the append that produced its events, so it is never behind the
/// stream. Each projection keeps its last applied sequence in <c>projection_progress</c> (see
/// <see cref="ProjectionRunner"/>), which makes applying idempotent and a rebuild from zero possible.
/// </summary>
public interface IInlineProjection
{
    string Name { get; }

    Task ApplyAsync(NpgsqlConnection connection, string tenant, RecordedEvent e, CancellationToken cancellationToken);

    /// <summary>Removes every row of the tenant (before a rebuild).</summary>
    Task ClearAsync(NpgsqlConnection connection, string tenant, CancellationToken cancellationToken);
}
