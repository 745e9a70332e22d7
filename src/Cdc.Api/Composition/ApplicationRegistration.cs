using System.Reflection;
using Cdc.Application.Validation;
using FluentValidation;
using MediatR;

namespace Cdc.Api.Composition;

/// <summary>
/// Wires MediatR 5 and FluentValidation by hand (neither DI extension package exists in the registry here):
/// every request handler and validator of the Application assembly, and the validation pipeline behaviour.
/// </summary>
public static class ApplicationRegistration
{
    public static IServiceCollection AddCdcApplication(this IServiceCollection services)
    {
        var assembly = typeof(ValidationBehavior<,>).Assembly;
        services.AddScoped<ServiceFactory>(sp => sp.GetService!);
        services.AddScoped<IMediator, Mediator>();
        services.AddScoped(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>));
        foreach (var type in assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false }))
        {
            foreach (var contract in type.GetInterfaces().Where(i => i.IsGenericType))
            {
                var definition = contract.GetGenericTypeDefinition();
                if (definition == typeof(IRequestHandler<,>))
                    services.AddScoped(contract, type);
                // Validators are stateless, and building one compiles its rules' expressions: once per process, not per request.
                else if (definition == typeof(IValidator<>))
                    services.AddSingleton(contract, type);
            }
        }
        return services;
    }

    /// <summary>The request types that have a handler: used by a start-up check and by tests.</summary>
    public static IEnumerable<Type> RequestTypes(Assembly assembly) =>
        assembly.GetTypes().SelectMany(t => t.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequestHandler<,>))
            .Select(i => i.GetGenericArguments()[0]);
}
