from hhbc.cli import main

raise SystemExit(main())
