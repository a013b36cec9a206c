using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace NewTechPark.Edge.Collector.Api.Security;

/// <summary>
/// The roles in the OpenAPI document: a <c>Bearer</c> security scheme, and on every operation that
/// needs a token the requirement and <c>x-ntp-role</c> (lab, staff, admin), so a client generator
/// and a reader see who may call what.
/// </summary>
public static class OpenApiRoles
{
    private const string Scheme = "Bearer";

    public static IServiceCollection AddRolesToOpenApi(this IServiceCollection services, string documentName = "v1")
    {
        services.Configure<OpenApiOptions>(documentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A token of Collector:Auth:Tokens (role lab, staff or admin; each role may do what the roles below it may) or Collector:Admin:Token (admin).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (TokenAuthenticationHandler.RequiredRole(new Endpoint(null, new EndpointMetadataCollection(metadata), null)) is { } role)
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [] });
                    operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                    operation.Extensions["x-ntp-role"] = new JsonNodeExtension(JsonValue.Create(role.Name()));
                }

                return Task.CompletedTask;
            });
        });
        return services;
    }
}
