namespace OtelAi.Cli;

/// <summary>
/// <c>otelai completion bash|zsh</c>: a shell completion script for the commands and flags (config sources
/// complete as files). Load it with <c>source &lt;(otelai completion bash)</c> or install it where the shell reads completions.
/// </summary>
internal sealed class CompletionCommand : ICliCommand
{
    public string Name => "completion";

    public string Summary => "print a shell completion script: otelai completion bash|zsh";

    /// <summary>Flags every config-reading command takes.</summary>
    private static readonly string[] Flags = ["--config", "--set", "--shutdown-timeout", "--feature-gates", "--mode", "--help", "--version"];

    /// <summary>Flags of the commands that ask a running collector (top, tap, health).</summary>
    private static readonly string[] LiveFlags = ["--endpoint", "--token", "--insecure-skip-verify", "--component", "--pipeline", "--where", "--count", "--once", "--interval", "--path", "--timeout", "--help"];

    public Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        var commands = string.Join(' ', CliCommands.All.Select(c => c.Name));
        var flags = string.Join(' ', Flags);
        var liveFlags = string.Join(' ', LiveFlags);
        var liveCommands = string.Join('|', CliCommands.All.Where(c => !c.TakesConfig).Select(c => c.Name));
        switch (args.Count == 1 ? args[0] : null)
        {
            case "bash":
                console.Out.Write($$"""
                    # otelai bash completion: source <(otelai completion bash)
                    _otelai() {
                        local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
                        case "$prev" in
                            --config|-c) COMPREPLY=($(compgen -f -- "$cur")); return ;;
                            --mode) COMPREPLY=($(compgen -W "redacted unredacted" -- "$cur")); return ;;
                            completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
                        esac
                        local flags="{{flags}}"
                        case "${COMP_WORDS[1]}" in {{liveCommands}}) flags="{{liveFlags}}" ;; esac
                        if [ "$COMP_CWORD" -eq 1 ] && [[ "$cur" != -* ]]; then
                            COMPREPLY=($(compgen -W "{{commands}}" -- "$cur"))
                        else
                            COMPREPLY=($(compgen -W "$flags" -- "$cur"))
                        fi
                    }
                    complete -o default -F _otelai otelai

                    """);
                return Task.FromResult(0);
            case "zsh":
                console.Out.Write($$"""
                    #compdef otelai
                    # otelai zsh completion: source <(otelai completion zsh)
                    _otelai() {
                        local -a commands flags
                        commands=({{commands}})
                        flags=({{flags}})
                        case "${words[2]}" in {{liveCommands}}) flags=({{liveFlags}}) ;; esac
                        case "${words[CURRENT-1]}" in
                            --config|-c) _files; return ;;
                            --mode) compadd redacted unredacted; return ;;
                            completion) compadd bash zsh; return ;;
                        esac
                        if (( CURRENT == 2 )) && [[ "${words[CURRENT]}" != -* ]]; then
                            compadd -a commands
                        else
                            compadd -a flags
                        fi
                    }
                    compdef _otelai otelai

                    """);
                return Task.FromResult(0);
            default:
                console.Error.WriteLine("usage: otelai completion bash|zsh");
                return Task.FromResult(2);
        }
    }
}
