namespace Cdc.Infrastructure.Source.Metadata;

internal static class DictionaryUpdates
{
    /// <summary>Stores <paramref name="value"/> under <paramref name="id"/>, or removes the entry when it is null.</summary>
    public static void SetOrRemove<T>(this Dictionary<long, T> map, long id, T? value) where T : class
    {
        if (value is null) map.Remove(id);
        else map[id] = value;
    }
}
