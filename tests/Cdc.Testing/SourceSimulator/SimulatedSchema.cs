using Cdc.Infrastructure.Milvus.Protos.Common;
using KeyValuePair = Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair;
using Cdc.Infrastructure.Milvus.Protos.Schema;

namespace Cdc.Testing.SourceSimulator;

/// <summary>
/// The schema a simulated client passes to CreateCollection: user fields in order, functions, the dynamic flag.
/// Ids are left out; the simulator assigns them as Milvus does (fields and functions from 100 on, <c>$meta</c> after
/// the user fields, system fields RowID=0 and Timestamp=1).
/// </summary>
public sealed class SimulatedSchema
{
    private readonly List<FieldSchema> _fields = [];
    private readonly List<FunctionSchema> _functions = [];

    public IReadOnlyList<FieldSchema> Fields => _fields;
    public IReadOnlyList<FunctionSchema> Functions => _functions;
    public bool EnableDynamicField { get; private set; }
    public string Description { get; private set; } = "";

    /// <summary>The usual test schema: an int64 primary key <c>id</c> and a float vector <c>vector</c> of <paramref name="dim"/>.</summary>
    public static SimulatedSchema Int64KeyFloatVector(int dim, bool autoId = false) =>
        new SimulatedSchema().WithInt64PrimaryKey("id", autoId).WithFloatVector("vector", dim);

    public SimulatedSchema WithDescription(string description)
    {
        Description = description;
        return this;
    }

    public SimulatedSchema WithInt64PrimaryKey(string name, bool autoId = false) =>
        With(new FieldSchema { Name = name, DataType = DataType.Int64, IsPrimaryKey = true, AutoID = autoId });

    public SimulatedSchema WithVarCharPrimaryKey(string name, int maxLength) =>
        With(new FieldSchema { Name = name, DataType = DataType.VarChar, IsPrimaryKey = true, TypeParams = { Pair("max_length", maxLength) } });

    public SimulatedSchema WithFloatVector(string name, int dim) =>
        With(new FieldSchema { Name = name, DataType = DataType.FloatVector, TypeParams = { Pair("dim", dim) } });

    public SimulatedSchema WithScalar(string name, DataType type, bool nullable = false, bool partitionKey = false) =>
        With(new FieldSchema { Name = name, DataType = type, Nullable = nullable, IsPartitionKey = partitionKey });

    /// <summary>A VarChar field; <paramref name="analyzed"/> sets enable_analyzer (a BM25 function's input needs it).</summary>
    public SimulatedSchema WithVarChar(string name, int maxLength, bool analyzed = false)
    {
        var field = new FieldSchema { Name = name, DataType = DataType.VarChar, TypeParams = { Pair("max_length", maxLength) } };
        if (analyzed) field.TypeParams.Add(new KeyValuePair { Key = "enable_analyzer", Value = "true" });
        return With(field);
    }

    public SimulatedSchema WithSparseVector(string name, bool functionOutput = false) =>
        With(new FieldSchema { Name = name, DataType = DataType.SparseFloatVector, IsFunctionOutput = functionOutput });

    /// <summary>A 2.5 BM25 function from a VarChar field into a new sparse vector output field.</summary>
    public SimulatedSchema WithBm25(string functionName, string input, string output)
    {
        WithSparseVector(output, functionOutput: true);
        _functions.Add(new FunctionSchema
        {
            Name = functionName,
            Type = FunctionType.Bm25,
            InputFieldNames = { input },
            OutputFieldNames = { output },
        });
        return this;
    }

    public SimulatedSchema WithDynamicField()
    {
        EnableDynamicField = true;
        return this;
    }

    public SimulatedSchema With(FieldSchema field)
    {
        _fields.Add(field);
        return this;
    }

    private static KeyValuePair Pair(string key, int value) =>
        new() { Key = key, Value = value.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}
