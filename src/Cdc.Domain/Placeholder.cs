namespace Cdc.Domain; public sealed class Placeholder {}
