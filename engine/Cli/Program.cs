using OtelAi.Cli;

return await CliCommands.RunAsync(args, CliConsole.Standard, CancellationToken.None);
