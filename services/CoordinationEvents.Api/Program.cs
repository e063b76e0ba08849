using CoordinationEvents.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddCoordinationEvents();

var app = builder.Build();
app.UseCoordinationEvents();
app.Run();

public partial class Program;
