using System.Text.Json.Nodes;
using Alba;
using Cdc.Testing;

namespace Cdc.Api.Tests;

/// <summary>
/// Every create that breaks a rule of the reference server's create (zilliztech/milvus-cdc server/cdc_impl.go) (or of JSON typing) is refused with a non-200 code equal
/// to the HTTP status, a message naming the field, and no event appended.
/// </summary>
public sealed class CreateErrorTests(SharedApp shared) : IClassFixture<SharedApp>
{
    // Request data written with ' for " (see Json); T is a valid target, A selects every collection.
    private const string T = "'milvus_connect_param':{'uri':'http://localhost:19530','connect_timeout':10}";
    private const string A = "'collection_infos':[{'name':'*'}]";

    public static TheoryData<string, string, string> Cases => new()
    {
        { Json(A), "milvus_connect_param", "the downstream address is empty" },
        { Json(T, "'kafka_connect_param':{'address':'k:9092','topic':'t'}", A), "kafka_connect_param", "don't support milvus and kafka at the same time now" },
        { Json("'milvus_connect_param':{'connect_timeout':10}", A), "milvus_connect_param.uri", "the milvus host is empty" },
        { Json("'milvus_connect_param':{'host':'localhost','port':0}", A), "milvus_connect_param.port", "the milvus port is less or equal zero" },
        { Json("'milvus_connect_param':{'uri':'localhost:19530'}", A), "milvus_connect_param.uri", "absolute http:// or https://" },
        { Json("'milvus_connect_param':{'uri':'http://h:1','username':'root'}", A), "milvus_connect_param.username", "cannot set only one of the milvus username and password" },
        { Json("'milvus_connect_param':{'uri':'http://h:1','password':'p'}", A), "milvus_connect_param.username", "cannot set only one of the milvus username and password" },
        { Json("'milvus_connect_param':{'uri':'http://h:1','connect_timeout':-1}", A), "milvus_connect_param.connect_timeout", "the milvus connect timeout is less zero" },
        { Json(T, "'buffer_config':{'period':-1}", A), "buffer_config.period", "the cache period is less zero" },
        { Json(T), "collection_infos", "the collection info is empty" },
        { Json(T, "'collection_infos':[]"), "collection_infos", "empty collection info" },
        { Json(T, "'collection_infos':[{'name':'*'},{'name':'a'}]"), "collection_infos", "make sure the only one collection if you want to use the '*' collection param, current param: [* a]" },
        { Json(T, A, "'db_collections':{'*':[{'name':'*'}]}"), "db_collections", "the collection info and db collection info should be only one" },
        { Json(T, "'db_collections':{'a':[{'name':'*'}],'b':[]}"), "db_collections.b", "empty collection info" },
        { Json(T, "'db_collections':{'a':[{'name':'x'},{'name':'*'}]}"), "db_collections.a", "make sure the only one collection if you want to use the '*' collection param, current param: [x *]" },
        { Json(T, "'db_collections':{'" + new string('d', 257) + "':[{'name':'*'}]}"), "db_collections", "the db name length exceeds 256 characters" },
        { Json(T, "'collection_infos':[{'name':''}]"), "collection_infos[0].name", "there is a collection name that is empty" },
        { Json(T, "'collection_infos':[{'name':'books'},{'name':'books'}]"), "collection_infos[1].name", "the collection books is listed twice" },
        { Json(T, "'db_collections':{'db1':[{'name':'" + new string('c', 257) + "'}]}"), "db_collections.db1[0].name", "there are some collection names whose length exceeds 256 characters" },
        { Json(T, "'collection_infos':[{'name':'books','positions':{'by-dev-rootcoord-dml_0':'AAAA'}}]"), "collection_infos[0].positions", "the position channel name is not virtual channel, by-dev-rootcoord-dml_0" },
        { Json(T, "'collection_infos':[{'name':'books','positions':{'by-dev-rootcoord-dml_0_1v0':'not base64!'}}]"), "collection_infos[0].positions.by-dev-rootcoord-dml_0_1v0", "fail to decode the position data" },
        { Json(T, "'collection_infos':[{'name':'books','positions':{'by-dev-rootcoord-dml_0_1v0':'" + Position + "','by-dev-rootcoord-dml_1_2v1':'" + Position + "'}}]"), "collection_infos[0].positions", "the channel position info should be in the same collection" },
        { Json(T, "'collection_infos':[{'name':'books'}]", "'name_mapping':[{'source_db':'default','target_db':'dr','collection_mapping':{'films':'f'}}]"), "name_mapping[0].collection_mapping.films", "the collection name in the name mapping is not in the collection info, checkout it" },
        { Json(T, "'db_collections':{'sales':[{'name':'*'}]}", "'name_mapping':[{'source_db':'hr','target_db':'dr'}]"), "name_mapping[0].source_db", "the collection name in the name mapping is not in the collection info, checkout it" },
        { Json(T, "'db_collections':{'sales':[{'name':'*'}]}", "'name_mapping':[{'source_db':'sales','target_db':''}]"), "name_mapping[0].target_db", "the target database name is empty" },
        { Json(T, "'db_collections':{'sales':[{'name':'*'}]}", "'name_mapping':[{'source_db':'sales','target_db':'dr'},{'source_db':'sales','target_db':'dr2'}]"), "name_mapping[1].source_db", "the source database sales is mapped twice" },
        { Json(T, "'db_collections':{'sales':[{'name':'a'},{'name':'b'}]}", "'name_mapping':[{'source_db':'sales','target_db':'dr','collection_mapping':{'a':'x','b':'x'}}]"), "name_mapping", "sales.a and sales.b would both be written to dr.x on the target" },
        { Json(T, "'db_collections':{'sales':[{'name':'*'}],'hr':[{'name':'*'}]}", "'name_mapping':[{'source_db':'sales','target_db':'hr'}]"), "name_mapping", "would both be written to hr.* on the target" },
        { Json(T, "'db_collections':{'sales':[{'name':'*'}]}", "'name_mapping':[{'source_db':'sales','target_db':'" + new string('d', 257) + "'}]"), "name_mapping[0].target_db", "is longer than 256 characters" },
        { Json(T, "'db_collections':{'sales':[{'name':'*'}]}", "'name_mapping':[{'source_db':'sales','target_db':'sales-dr'}]"), "name_mapping[0].target_db", "database name can only contain numbers, letters and underscores" },
        { Json(T, "'db_collections':{'sales':[{'name':'a'}]}", "'name_mapping':[{'source_db':'sales','target_db':'dr','collection_mapping':{'a':'*'}}]"), "name_mapping[0].collection_mapping.a", "'*' cannot be mapped" },
        { Json(T, A, "'start_from':'yesterday'"), "start_from", "'yesterday' is not \"latest\", \"earliest\" or a time like 2026-12-04T10:00:00Z" },
        { Json(T, A, "'start_from':'2999-01-01T00:00:00Z'"), "start_from", "the time 2999-01-01T00:00:00Z is in the future" },
        { Json(T, "'collection_infos':[{'name':'*','positions':{'by-dev-rootcoord-dml_0_1v0':'AAAA'}}]"), "collection_infos[0].positions", "the positions should be empty" },
        { Json(T, A, "'rpc_channel_info':{'name':'other-replicate-msg'}"), "rpc_channel_info.name", "the rpc channel is invalid" },
        { Json(T, A, "'task_id':'bad id!'"), "task_id", "letters, digits" },
        { Json(T, A, "'rpc_channel_info':{'position':'not base64!'}"), "rpc_channel_info.position", "fail to decode the position data: the position is not base64" },
        { Json(T, A, "'rpc_channel_info':{'position':'/////w=='}"), "rpc_channel_info.position", "fail to decode the position data: the position is not a MsgPosition" },
        { Json(T, A, "'rpc_channel_info':{'position':'CgNhYmM='}"), "rpc_channel_info.position", "fail to decode the position data: the position has no msgID" },
        // wrong JSON types name the field
        { Json("'milvus_connect_param':{'uri':'http://h:1','connect_timeout':'10'}", A), "milvus_connect_param.connect_timeout", "expected a whole number, got a string" },
        { Json("'milvus_connect_param':'http://h:1'", A), "milvus_connect_param", "expected an object, got a string" },
        { Json(T, "'collection_infos':{'name':'*'}"), "collection_infos", "expected an array, got an object" },
        { Json(T, "'collection_infos':['*']"), "collection_infos[0]", "expected an object, got a string" },
        { Json(T, "'collection_infos':[{'name':7}]"), "collection_infos[0].name", "expected a string, got a number" },
        { Json("'milvus_connect_param':{'uri':'http://h:1','enable_tls':'yes'}", A), "milvus_connect_param.enable_tls", "expected true or false" },
        { Json("'milvus_connect_param':{'uri':'http://h:1','connect_timeout':1e300}", A), "milvus_connect_param.connect_timeout", "out of range" },
    };

    // A MsgPosition (milvus-proto msg.proto MsgPosition: channel_name = 1, msgID = 2) with msgID 0x01.
    private static readonly string Position = Convert.ToBase64String([0x0A, 0x01, 0x63, 0x12, 0x01, 0x01]);

    private static string Json(params string[] members) => "{" + string.Join(",", members).Replace('\'', '"') + "}";

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_bad_create_names_the_field_and_stores_nothing(string requestData, string field, string problem)
    {
        var app = shared.App;
        var before = await HighWaterMarkAsync(app);

        await app.Host.Scenario(s =>
        {
            s.PostCdc($$"""{"request_type":"create","request_data":{{requestData}}}""");
            s.ShouldBeRefused(400, $"{field}: ", problem);
            s.MessageShouldStartWith("fail to handle the create request, error: ");
            s.JsonPath("$.data").ShouldNotExist();
        });

        Assert.Equal(before, await HighWaterMarkAsync(app));
    }

    [Fact]
    public async Task A_collection_name_longer_than_maxNameLength_is_refused()
    {
        await using var app = await CdcApp.StartAsync(new Dictionary<string, string> { ["maxNameLength"] = "3" });
        await app.Host.Scenario(s =>
        {
            s.PostEnvelope("create", JsonNode.Parse(Json(T, "'db_collections':{'long':[{'name':'*'}]}")));
            s.StatusCodeShouldBe(400);
            s.MessageShouldContain("db_collections: the db name length exceeds 3 characters, long");
        });
    }

    /// <summary>The event feed's high-water mark: the number of events stored so far.</summary>
    internal static async Task<long> HighWaterMarkAsync(CdcApp app)
    {
        var result = await app.Host.Scenario(s => s.Get.Url("/cdc/events?after=0&limit=1"));
        return (await result.ReadAsJsonAsync<JsonObject>())["data"]!["high_water_mark"]!.GetValue<long>();
    }
}
