using System.Reflection;
using FluentValidation;
using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.CodeGeneration.Frames;
using JasperFx.CodeGeneration.Model;
using Wolverine.Http;
using Wolverine.Http.CodeGen;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// How Wolverine.Http reads this API's request bodies: with our strict reader (<see cref="JsonInput"/>), not its
/// default one. Ours refuses unknown fields and duplicate properties, limits the size (413), wants a JSON media type
/// (415) and names the field of every shape error (<c>occurredOn</c>, <c>details</c>) in the one problem document
/// format; Wolverine's would answer a bare "Invalid JSON format". The read is the chain's first middleware frame;
/// <see cref="FluentValidationPolicy"/> validates what it read, and the endpoint is marked as accepting the type
/// (for OpenAPI, see <c>Swagger.RequestBodies</c>).
/// </summary>
public sealed class StrictJsonBodyStrategy : IParameterStrategy
{
    static readonly MethodInfo Read = typeof(JsonInput).GetMethod(nameof(JsonInput.ReadBodyAsync))!;

    public bool TryMatch(HttpChain chain, IServiceContainer container, ParameterInfo parameter, out Variable? variable)
    {
        variable = null;
        if (!JsonInput.Limits.ContainsKey(parameter.ParameterType)) return false;
        var call = new MethodCall(typeof(JsonInput), Read.MakeGenericMethod(parameter.ParameterType)) { CommentText = "Strict JSON body" };
        chain.Middleware.Insert(0, call);
        chain.Metadata.Accepts(parameter.ParameterType, "application/json");
        variable = call.ReturnVariable!;
        return true;
    }
}

/// <summary>
/// FluentValidation as Wolverine middleware (the WolverineFx.Http.FluentValidation package is not served here):
/// right after an endpoint's body is read, if its type has an <see cref="IValidator{T}"/>, validate it and end
/// the request with a 400 validation problem (field keys as the JSON paths clients send) when it fails.
/// </summary>
public sealed class FluentValidationPolicy : IHttpPolicy
{
    static readonly MethodInfo Validate = typeof(FluentValidationPolicy).GetMethod(nameof(ValidateAsync))!;

    public void Apply(IReadOnlyList<HttpChain> chains, GenerationRules rules, IServiceContainer container)
    {
        foreach (var chain in chains)
        {
            var read = chain.Middleware.OfType<MethodCall>().FirstOrDefault(m => m.Method.Name == nameof(JsonInput.ReadBodyAsync) && m.HandlerType == typeof(JsonInput));
            if (read?.ReturnVariable?.VariableType is not { } type) continue;
            if (!container.RegistrationsFor(typeof(IValidator<>).MakeGenericType(type)).Any()) continue;
            var call = new MethodCall(typeof(FluentValidationPolicy), Validate.MakeGenericMethod(type)) { CommentText = "FluentValidation" };
            chain.Middleware.InsertRange(chain.Middleware.IndexOf(read) + 1, [call, new MaybeEndWithResultFrame(call.ReturnVariable!)]);
            chain.Metadata.ProducesValidationProblem();
        }
    }

    /// <summary>The key under which a validator finds the request's <see cref="HttpContext"/>.</summary>
    public const string HttpContextKey = "httpContext";

    public static async Task<IResult> ValidateAsync<T>(IValidator<T> validator, T body, HttpContext httpContext)
    {
        var context = new ValidationContext<T>(body);
        context.RootContextData[HttpContextKey] = httpContext;
        var result = await validator.ValidateAsync(context, httpContext.RequestAborted);
        return result.IsValid
            ? WolverineContinue.Result()
            : Results.Problem(ProblemExceptionHandler.Validation(ValidationErrors.From(result.Errors)));
    }
}

/// <summary>FluentValidation's failures as the problem document's <c>errors</c>: keyed by field, messages in the order found, each once.</summary>
public static class ValidationErrors
{
    public static IReadOnlyDictionary<string, string[]> From(IEnumerable<FluentValidation.Results.ValidationFailure> failures)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var failure in failures)
        {
            if (!errors.TryGetValue(failure.PropertyName, out var messages))
                errors[failure.PropertyName] = messages = [];
            if (!messages.Contains(failure.ErrorMessage))
                messages.Add(failure.ErrorMessage);
        }
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }
}
