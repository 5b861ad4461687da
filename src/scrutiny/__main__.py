from scrutiny.cli import main

raise SystemExit(main())
