using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;

namespace Cdc.Testing;

/// <summary>Alba scenario steps for the CDC server: the envelope POST to /cdc and the checks of its error answers.</summary>
public static class CdcScenarioExtensions
{
    /// <summary>POST /cdc of <c>{"request_type": ..., "request_data": ...}</c>, declared <c>application/json</c>.</summary>
    public static SendExpression PostEnvelope(this Scenario scenario, string requestType, object? requestData = null) =>
        scenario.PostCdc(CdcApp.Envelope(requestType, requestData));

    /// <summary>POST /cdc of <paramref name="body"/> as it is, declared with <paramref name="contentType"/>.</summary>
    public static SendExpression PostCdc(this Scenario scenario, string body, string contentType = "application/json") =>
        scenario.Post.Text(body).ToUrl("/cdc").ContentType(contentType);

    /// <summary>
    /// The answer of a refused request: HTTP <paramref name="status"/> and a JSON body <c>{"code": status, "message": ...}</c>
    /// whose message contains each of <paramref name="messageParts"/>.
    /// </summary>
    public static Scenario ShouldBeRefused(this Scenario scenario, int status, params string[] messageParts)
    {
        scenario.StatusCodeShouldBe(status);
        scenario.JsonPath("$.code").ShouldBe(status);
        return scenario.MessageShouldContain(messageParts);
    }

    /// <summary>The <c>message</c> of the JSON answer is a string containing each of <paramref name="parts"/>.</summary>
    public static Scenario MessageShouldContain(this Scenario scenario, params string[] parts) =>
        scenario.AssertThat(new MessageAssertion(message => parts.All(p => message.Contains(p, StringComparison.Ordinal)),
            "containing " + string.Join(" and ", parts.Select(p => $"'{p}'"))));

    /// <summary>The <c>message</c> of the JSON answer is a string starting with <paramref name="prefix"/>.</summary>
    public static Scenario MessageShouldStartWith(this Scenario scenario, string prefix) =>
        scenario.AssertThat(new MessageAssertion(message => message.StartsWith(prefix, StringComparison.Ordinal), $"starting with '{prefix}'"));

    private sealed class MessageAssertion(Func<string, bool> check, string expectation) : IScenarioAssertion
    {
        public void Assert(Scenario scenario, AssertionContext context)
        {
            var body = context.ReadBodyAsString();
            JsonNode? message;
            try
            {
                message = JsonNode.Parse(body)?["message"];
            }
            catch (JsonException ex)
            {
                context.AddFailure($"Expected a JSON body with a message {expectation}, but it is not JSON: {ex.Message}");
                return;
            }

            if (message?.GetValueKind() != JsonValueKind.String)
                context.AddFailure($"Expected a JSON body with a string 'message' {expectation}, but it has {message?.ToJsonString() ?? "none"}");
            else if (!check(message.GetValue<string>()))
                context.AddFailure($"Expected the message {expectation}, but it is '{message.GetValue<string>()}'");
        }
    }
}
