using Microsoft.Extensions.FileProviders;

// In the root namespace so that the wiring is one line, `app.UseDashboard();`, with no using to add.
namespace CoordinationEvents.Api;

/// <summary>
/// The analysts' dashboard: static files under wwwroot/dashboard/ (HTML, CSS, JavaScript and the vendored
/// Chart.js), served at <c>/dashboard</c> (and <c>/dashboard/</c>), with <c>/</c> redirecting there. The page calls only the public HTTP
/// API with the key the user gives it; nothing here touches the event store. <c>/favicon.ico</c> answers with the page's SVG icon.
/// </summary>
public static class DashboardEndpoints
{
    public const string Path = "/dashboard";

    public static WebApplication UseDashboard(this WebApplication app)
    {
        app.UseStaticFiles(new StaticFileOptions
        {
            // The page is small and changes with each release; let browsers revalidate rather than keep stale copies.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });

        app.MapGet("/", () => Results.Redirect(Path)).ExcludeFromDescription();
        // The page names its icon (<link rel="icon">); browsers and tools that ask for /favicon.ico get the same SVG.
        app.MapGet("/favicon.ico", (IWebHostEnvironment environment) => Icon(environment.WebRootFileProvider)).ExcludeFromDescription();
        // Routing matches /dashboard/ here too; the page links its files by absolute paths, so both work.
        app.MapGet(Path, (IWebHostEnvironment environment) => Page(environment.WebRootFileProvider)).ExcludeFromDescription();
        return app;
    }

    static IResult Icon(IFileProvider files)
    {
        var icon = files.GetFileInfo("dashboard/icon.svg");
        return icon.Exists && icon.PhysicalPath is not null
            ? Results.File(icon.PhysicalPath, "image/svg+xml")
            : Results.NotFound();
    }

    static IResult Page(IFileProvider files)
    {
        var page = files.GetFileInfo("dashboard/index.html");
        if (!page.Exists || page.PhysicalPath is null)
            return Results.Problem("The dashboard's files (wwwroot/dashboard) are missing from this build.", statusCode: 404, title: "Not found");
        return Results.File(page.PhysicalPath, "text/html; charset=utf-8");
    }
}
