from marginctl.cli import main

main()
