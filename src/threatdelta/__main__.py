from threatdelta.cli import main

raise SystemExit(main())
