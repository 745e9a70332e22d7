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
        // Everything here is stateless and depends only on singletons: one instance per process, so a request resolves
        // them from the root provider instead of building a mediator, a behaviour and a handler per request.
        services.AddSingleton<ServiceFactory>(sp => sp.GetService!);
        services.AddSingleton<IMediator, Mediator>();
        services.AddSingleton(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>));
        foreach (var type in assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false }))
        {
            foreach (var contract in type.GetInterfaces().Where(i => i.IsGenericType))
            {
                var definition = contract.GetGenericTypeDefinition();
                if (definition == typeof(IRequestHandler<,>))
                    services.AddSingleton(contract, type);
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
