using FluentValidation;
using MediatR;

namespace Cdc.Application.Validation;

/// <summary>
/// Runs the request's validators before its handler. The first failing rule (rules are ordered as the reference
/// server checks them) becomes an <see cref="InvalidRequest"/> naming the field.
/// </summary>
public sealed class ValidationBehavior<TRequest, TResponse>(IEnumerable<IValidator<TRequest>> validators)
    : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        foreach (var validator in validators)
        {
            var result = await validator.ValidateAsync(request, cancellationToken);
            if (result.Errors.FirstOrDefault() is { } failure)
                throw new InvalidRequest(failure.PropertyName, failure.ErrorMessage);
        }
        return await next();
    }
}
